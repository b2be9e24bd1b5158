/**
 * Dependency rules (`npm run deps:check`).
 *
 * The domain core: files under lib/domain/ may import each other and `zod`, and nothing else: no
 * Node built-in that does I/O (or reads time or randomness), no other package, no path outside
 * lib/domain/. Also refuses the globals that would smuggle the same in without an import
 * (process, fetch, require, performance, Date.now(), new Date(), Math.random()).
 *
 * The layers around it (LAYER_RULES): use cases never import adapters, the runtime, functions or
 * the local cloud; adapters never import use cases, functions, infra or the local cloud; functions
 * reach adapters only through the runtime's dependency builder.
 *
 * Usage: tsx test/tools/check-domain-deps.ts [domainDir]   (exit 1 and a list when anything is found;
 * with a folder named, only the domain rule runs, on that folder)
 */
import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

export interface SourceText {
  /** Repository-relative POSIX path, e.g. `lib/domain/plan.ts`. */
  path: string;
  text: string;
}

export interface Violation {
  file: string;
  line: number;
  /** The import specifier or the global that was used. */
  target: string;
  reason: string;
}

/** Built-ins with no I/O, clock or randomness; everything else from Node is refused. */
const PURE_BUILTINS = new Set([
  'assert',
  'buffer',
  'events',
  'path',
  'punycode',
  'querystring',
  'string_decoder',
  'url',
  'util',
]);
const ALLOWED_PACKAGES = new Set(['zod']);
const BUILTINS = new Set(builtinModules);
const IO_GLOBALS = new Set(['process', 'fetch', 'require', 'performance']);

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/** Why `specifier`, imported from `file`, breaks the rule; null when it is allowed. */
export function classifyImport(file: string, specifier: string, domainRoot = 'lib/domain'): string | null {
  if (specifier.startsWith('.')) {
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    return resolved.startsWith(`${domainRoot}/`)
      ? null
      : `path outside ${domainRoot}/ (resolves to ${resolved})`;
  }
  if (specifier.startsWith('/') || specifier.startsWith('#') || /^[a-z]+:/i.test(specifier)) {
    if (!specifier.startsWith('node:')) return `path outside ${domainRoot}/`;
  }
  const bare = specifier.replace(/^node:/, '');
  const base = bare.split('/')[0] as string;
  if (specifier.startsWith('node:') || BUILTINS.has(bare) || BUILTINS.has(base)) {
    return PURE_BUILTINS.has(base) ? null : `Node built-in "${base}" does I/O (or reads time/randomness)`;
  }
  const pkg = packageName(specifier);
  return ALLOWED_PACKAGES.has(pkg) ? null : `npm package "${pkg}" (only zod is allowed)`;
}

function moduleSpecifiers(sf: ts.SourceFile): { node: ts.Node; specifier: string | null }[] {
  const found: { node: ts.Node; specifier: string | null }[] = [];
  const literal = (e: ts.Node | undefined): string | null =>
    e !== undefined && ts.isStringLiteralLike(e) ? e.text : null;
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined
    ) {
      found.push({ node, specifier: literal(node.moduleSpecifier) });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      found.push({ node, specifier: literal(node.moduleReference.expression) });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      found.push({ node, specifier: literal(node.argument.literal) });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      found.push({ node, specifier: literal(node.arguments[0]) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function forbiddenGlobals(sf: ts.SourceFile): { node: ts.Node; target: string }[] {
  const found: { node: ts.Node; target: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const call = `${node.expression.text}.${node.name.text}`;
      if (call === 'Date.now' || call === 'Math.random') found.push({ node, target: `${call}()` });
    }
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Date') {
      if ((node.arguments?.length ?? 0) === 0) found.push({ node, target: 'new Date()' });
    }
    if (ts.isIdentifier(node) && IO_GLOBALS.has(node.text)) {
      const parent = node.parent;
      const used =
        (ts.isPropertyAccessExpression(parent) && parent.expression === node) ||
        (ts.isCallExpression(parent) && parent.expression === node) ||
        (ts.isElementAccessExpression(parent) && parent.expression === node);
      if (used) found.push({ node, target: node.text });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Every violation in the given files, in file then line order. */
export function findViolations(files: readonly SourceText[], domainRoot = 'lib/domain'): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const lineOf = (n: ts.Node): number => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
    for (const { node, specifier } of moduleSpecifiers(sf)) {
      const reason =
        specifier === null
          ? 'import with a computed specifier'
          : classifyImport(file.path, specifier, domainRoot);
      if (reason !== null)
        out.push({ file: file.path, line: lineOf(node), target: specifier ?? '<computed>', reason });
    }
    for (const { node, target } of forbiddenGlobals(sf)) {
      out.push({
        file: file.path,
        line: lineOf(node),
        target,
        reason: 'global that does I/O or reads time/randomness',
      });
    }
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}

export interface LayerRule {
  /** Repository-relative folder whose files the rule covers. */
  root: string;
  /** Repository-relative folders those files must not import, with the reason. */
  forbidden: { root: string; why: string }[];
}

/** Use cases: their dependency type (`Deps`) lives beside them, so they need nothing from the runtime. */
export const USE_CASE_RULE: LayerRule = {
  root: 'lib/usecases',
  forbidden: [
    { root: 'lib/adapters', why: 'use cases reach I/O through ports, never an adapter' },
    { root: 'lib/runtime', why: 'use cases get their dependencies as an argument, not from the runtime' },
    { root: 'functions', why: 'use cases do not know the functions that call them' },
    { root: 'local', why: 'use cases do not know the local cloud' },
  ],
};

export const LAYER_RULES: readonly LayerRule[] = [
  USE_CASE_RULE,
  {
    root: 'lib/adapters',
    forbidden: [
      { root: 'lib/usecases', why: 'adapters implement ports and know no use case' },
      { root: 'functions', why: 'adapters do not know the functions' },
      { root: 'infra', why: 'adapters read shared definitions from lib/schema, not infra' },
      { root: 'local', why: 'adapters do not know the local cloud' },
    ],
  },
  {
    root: 'functions',
    forbidden: [
      { root: 'lib/adapters', why: "functions get adapters through the runtime's dependency builder" },
    ],
  },
];

const under = (file: string, root: string) => file === root || file.startsWith(`${root}/`);

/** Imports that cross a layer boundary the rules forbid, in file then line order. */
export function findLayerViolations(
  files: readonly SourceText[],
  rules: readonly LayerRule[] = LAYER_RULES,
): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    const applicable = rules.filter((r) => under(file.path, r.root));
    if (applicable.length === 0) continue;
    const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    for (const { node, specifier } of moduleSpecifiers(sf)) {
      if (specifier === null || !specifier.startsWith('.')) continue;
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file.path), specifier));
      for (const rule of applicable) {
        const hit = rule.forbidden.find((f) => under(resolved, f.root));
        if (hit === undefined) continue;
        out.push({
          file: file.path,
          line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1,
          target: specifier,
          reason: `${hit.root}/ (${hit.why})`,
        });
      }
    }
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}

async function listTs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return listTs(full);
      return /\.(c|m)?ts$/.test(e.name) ? [full] : [];
    }),
  );
  return nested.flat();
}

async function readTree(repo: string, dir: string): Promise<SourceText[]> {
  const files: SourceText[] = [];
  for (const full of (await listTs(dir)).sort()) {
    files.push({
      path: path.relative(repo, full).split(path.sep).join('/'),
      text: await readFile(full, 'utf8'),
    });
  }
  return files;
}

async function main(): Promise<void> {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const domainDir = path.resolve(repo, process.argv[2] ?? 'lib/domain');
  const domainRoot = path.relative(repo, domainDir).split(path.sep).join('/');
  const domainFiles = await readTree(repo, domainDir);
  const violations = findViolations(domainFiles, domainRoot);
  let checked = domainFiles.length;
  if (process.argv[2] === undefined) {
    const layered = (
      await Promise.all(LAYER_RULES.map((r) => readTree(repo, path.join(repo, r.root))))
    ).flat();
    checked += layered.length;
    violations.push(...findLayerViolations(layered));
  }
  if (violations.length === 0) {
    const layers =
      process.argv[2] === undefined ? ` and ${LAYER_RULES.map((r) => `${r.root}/`).join(', ')}` : '';
    console.log(`deps:check: ${checked} files under ${domainRoot}/${layers}, no forbidden dependency`);
    return;
  }
  for (const v of violations) console.error(`${v.file}:${v.line}  ${v.target}  ${v.reason}`);
  console.error(
    `deps:check: ${violations.length} forbidden ${violations.length === 1 ? 'dependency' : 'dependencies'} under ${domainRoot}/${process.argv[2] === undefined ? ' and the layers' : ''}`,
  );
  process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
