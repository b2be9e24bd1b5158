import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { englishZodOnly, patchTablestore } from './build-patches.js';
import { lazyTablestoreProto } from './tablestore-proto.js';
import { buildConsole } from './console.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The deployed functions: name → entry module. Each becomes one code package in dist/functions/<name>/. */
export const FUNCTIONS = ['api', 'scheduler', 'worker', 'retention'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** Guest scripts the worker renders at run time, read from beside the bundle (lib/guest/render.ts). */
const GUEST_SCRIPTS = [
  'linux-backup.sh',
  'windows-backup.ps1',
  'linux-export.sh',
  'windows-export.ps1',
  'linux-verify.sh',
];

/** Modules a cloud bundle must never contain: the local cloud's store and queue, and native code. */
export const FORBIDDEN_IN_BUNDLES = [
  'better-sqlite3',
  'lib/adapters/sqlite/',
  'lib/adapters/embedded-queue/',
  'local/',
];

/**
 * Required by the OSS SDK's dependencies only where it is optional: proxy-agent when a proxy is
 * configured (FC sets none), graceful-fs inside a try that falls back to `fs`.
 */
export const OPTIONAL_EXTERNALS = ['proxy-agent', 'graceful-fs'];

/** Packages only an export needs: their chunks are loaded on the first export call, not at cold start. */
const LAZY_PACKAGES = ['ali-oss'];

export interface BuiltFunction {
  name: FunctionName;
  dir: string;
  /** The entry module FC loads (`index.handler`). */
  bundle: string;
  /** The entry and the chunks it imports on demand, absolute paths. */
  files: string[];
  /** All of `files`, raw. */
  bytes: number;
  /** What a cold start loads: the bundle and every chunk but the ones loaded on first use. */
  gzipBytes: number;
  /** Chunks loaded on first use only (the OSS SDK, on the first export call). */
  lazyGzipBytes: number;
  /** The entry module alone: what every cold start reads and compiles. */
  entryBytes: number;
  entryGzipBytes: number;
  /** Every input file the bundle holds, repository-relative. */
  inputs: string[];
  /** ... and those of the entry module alone, which every cold start loads. */
  entryInputs: string[];
  /**
   * The entry and the chunks it imports statically, raw: what importing the bundle reads and
   * compiles before the handler runs (code splitting moves shared code into such chunks).
   */
  importedBytes: number;
  /** ... and the input files they hold, repository-relative. */
  importedInputs: string[];
  /** Module → the chunk its `import()` loads (repository-relative module, absolute chunk path). */
  onDemand: Record<string, string>;
  /** What the bundle still imports at run time (Node built-ins only). */
  externals: string[];
}

/**
 * `npm run build`: one ES-module bundle per function (esbuild), with its source map and the guest
 * scripts beside it, no native module and no node_modules. FC's nodejs20 runtime loads `.mjs`
 * files as ES modules, so the handler is `index.handler`.
 *
 * What a function reaches only through `import()` (the ECS and KMS clients, the API's OpenAPI
 * document, ...) is split into `chunks/`, read and compiled on the first call that needs it: a
 * cold start parses only the entry module, not every SDK the function might use.
 */
export async function buildFunctions(
  outRoot = path.join(REPO, 'dist', 'functions'),
): Promise<BuiltFunction[]> {
  rmSync(outRoot, { recursive: true, force: true });
  const built: BuiltFunction[] = [];
  for (const name of FUNCTIONS) {
    const dir = path.join(outRoot, name);
    mkdirSync(dir, { recursive: true });
    const result = await esbuild.build({
      absWorkingDir: REPO,
      entryPoints: { index: path.join(REPO, 'functions', name, 'index.ts') },
      outdir: dir,
      outExtension: { '.js': '.mjs' },
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      minify: true,
      sourcemap: true,
      // The map points at the repository's sources instead of carrying them: a third of the size to parse.
      sourcesContent: false,
      // Source paths in the map relative to the repository, not to dist/.
      sourceRoot: '',
      metafile: true,
      logLevel: 'warning',
      legalComments: 'none',
      plugins: [preferModernMns(), patchTablestore(), lazyTablestoreProto(), englishZodOnly()],
      // ali-oss's HTTP client loads proxy-agent only when a proxy is configured; FC sets none.
      external: ['proxy-agent'],
      // CommonJS packages inside an ES module bundle call require() for Node built-ins (in every chunk).
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
    });
    // The API function serves the operator console from beside its bundle (functions/api/index.ts).
    if (name === 'api') await buildConsole(path.join(dir, 'console'));
    for (const script of GUEST_SCRIPTS)
      copyFileSync(path.join(REPO, 'lib', 'guest', script), path.join(dir, script));
    // Beside the packages, not in them: what each output holds (esbuild's analyzer reads it).
    writeFileSync(path.join(outRoot, `${name}.meta.json`), JSON.stringify(result.metafile));
    const bundle = path.join(dir, 'index.mjs');
    const inputs = Object.keys(result.metafile.inputs);
    const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.mjs'));
    const externals = [
      ...new Set(outputs.flatMap(([, o]) => o.imports.filter((i) => i.external).map((i) => i.path))),
    ].sort();
    const gz = (file: string) => gzipSync(readFileSync(path.join(REPO, file))).length;
    const isLazy = (o: esbuild.Metafile['outputs'][string]) =>
      Object.keys(o.inputs).some((i) => LAZY_PACKAGES.some((p) => i.includes(`node_modules/${p}/`)));
    const forbidden = inputs.filter((i) => FORBIDDEN_IN_BUNDLES.some((f) => i.includes(f)));
    if (forbidden.length > 0) throw new Error(`the ${name} bundle must not contain ${forbidden.join(', ')}`);
    const files = outputs.map(([file]) => path.join(REPO, file)).sort();
    const sizes = files.map((f) => {
      const data = readFileSync(f);
      return { file: f, bytes: data.length, gzipBytes: gzipSync(data).length };
    });
    const entry = sizes.find((s) => s.file === bundle)!;
    const entryOutput = outputs.find(([file]) => path.join(REPO, file) === bundle)?.[1];
    built.push({
      name,
      dir,
      bundle,
      files,
      bytes: sizes.reduce((n, s) => n + s.bytes, 0),
      gzipBytes: outputs.filter(([, o]) => !isLazy(o)).reduce((n, [f]) => n + gz(f), 0),
      lazyGzipBytes: outputs.filter(([, o]) => isLazy(o)).reduce((n, [f]) => n + gz(f), 0),
      entryBytes: entry.bytes,
      entryGzipBytes: entry.gzipBytes,
      inputs,
      entryInputs: Object.keys(entryOutput?.inputs ?? {}),
      ...importedByEntry(result.metafile, path.relative(REPO, bundle)),
      onDemand: Object.fromEntries(
        outputs
          .filter(([file, o]) => o.entryPoint !== undefined && path.join(REPO, file) !== bundle)
          .map(([file, o]) => [o.entryPoint!, path.join(REPO, file)]),
      ),
      externals,
    });
  }
  writeFileSync(
    path.join(outRoot, 'manifest.json'),
    `${JSON.stringify(
      built.map(({ name, bytes, gzipBytes, lazyGzipBytes, entryBytes, entryGzipBytes }) => ({
        name,
        bytes,
        gzipBytes,
        lazyGzipBytes,
        entryBytes,
        entryGzipBytes,
      })),
      null,
      2,
    )}\n`,
  );
  return built;
}

/** The outputs `entry` loads before it runs: itself and its static imports, transitively. */
function importedByEntry(
  metafile: esbuild.Metafile,
  entry: string,
): { importedBytes: number; importedInputs: string[] } {
  const seen = new Set<string>();
  const queue = [entry.split(path.sep).join('/')];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file) || metafile.outputs[file] === undefined) continue;
    seen.add(file);
    for (const i of metafile.outputs[file].imports)
      if (i.kind === 'import-statement' && !i.external) queue.push(i.path);
  }
  const outputs = [...seen].map((file) => metafile.outputs[file]!);
  return {
    importedBytes: outputs.reduce((n, o) => n + o.bytes, 0),
    importedInputs: [...new Set(outputs.flatMap((o) => Object.keys(o.inputs)))].sort(),
  };
}

/**
 * `@alicloud/mns` picks between its modern build and a Babel ES5 build at run time; the ES5 one
 * needs babel-runtime, which is not installed. Node 20 always takes the modern one.
 */
function preferModernMns(): esbuild.Plugin {
  return {
    name: 'prefer-modern-mns',
    setup(build) {
      build.onResolve({ filter: /^@alicloud\/mns$/ }, () => ({
        path: path.join(REPO, 'node_modules', '@alicloud', 'mns', 'lib', 'client.js'),
      }));
    },
  };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildFunctions();
  for (const b of built) {
    console.log(
      `${b.name.padEnd(10)} ${path.relative(REPO, b.bundle)}  ${(b.bytes / 1024).toFixed(0)} KB, ${(b.gzipBytes / 1024).toFixed(0)} KB gzipped ` +
        `(entry ${(b.entryBytes / 1024).toFixed(0)} KB, ${(b.importedBytes / 1024).toFixed(0)} KB with its static imports, ${b.files.length - 1} chunks)`,
    );
  }
}
