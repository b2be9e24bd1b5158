/**
 * Dependency rule for the domain core: files under lib/domain/ may import each other and `zod`, and
 * nothing else: no Node built-in that does I/O (or reads time or randomness), no other package, no
 * path outside lib/domain/. Also refuses the globals that would smuggle the same in without an import
 * (process, fetch, require, performance, Date.now(), new Date(), Math.random()).
 *
 * Usage: tsx test/tools/check-domain-deps.ts [domainDir]   (exit 1 and a list when anything is found)
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

async function main(): Promise<void> {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const domainDir = path.resolve(repo, process.argv[2] ?? 'lib/domain');
  const domainRoot = path.relative(repo, domainDir).split(path.sep).join('/');
  const files: SourceText[] = [];
  for (const full of (await listTs(domainDir)).sort()) {
    files.push({
      path: path.relative(repo, full).split(path.sep).join('/'),
      text: await readFile(full, 'utf8'),
    });
  }
  const violations = findViolations(files, domainRoot);
  if (violations.length === 0) {
    console.log(`deps:check: ${files.length} files under ${domainRoot}/, no forbidden dependency`);
    return;
  }
  for (const v of violations) console.error(`${v.file}:${v.line}  ${v.target}  ${v.reason}`);
  console.error(
    `deps:check: ${violations.length} forbidden ${violations.length === 1 ? 'dependency' : 'dependencies'} under ${domainRoot}/`,
  );
  process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
