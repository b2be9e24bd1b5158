import { copyFileSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import * as esbuild from 'esbuild';
import { englishZodOnly, patchTablestore } from './build-patches.js';
import { buildConsole } from './console.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The deployed functions: name → entry module. Each becomes one code package in dist/functions/<name>/. */
export const FUNCTIONS = ['api', 'scheduler', 'worker', 'retention'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** Guest scripts the worker renders at run time, read from beside the bundle (lib/guest/render.ts). */
const GUEST_SCRIPTS = ['linux-backup.sh', 'windows-backup.ps1', 'linux-export.sh'];

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
  bundle: string;
  bytes: number;
  /** What a cold start loads: the bundle and every chunk but the ones loaded on first use. */
  gzipBytes: number;
  /** Chunks loaded on first use only (the OSS SDK, on the first export call). */
  lazyGzipBytes: number;
  /** Every input file the bundle holds, repository-relative. */
  inputs: string[];
  /** What the bundle still imports at run time (Node built-ins only). */
  externals: string[];
}

/**
 * `npm run build`: one ES-module bundle per function (esbuild), with its source map and the guest
 * scripts beside it, no native module and no node_modules. FC's nodejs20 runtime loads `.mjs`
 * files as ES modules, so the handler is `index.handler`.
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
      entryPoints: [path.join(REPO, 'functions', name, 'index.ts')],
      outdir: dir,
      entryNames: 'index',
      // What is imported on demand (the OSS SDK, for exports) goes into a chunk beside the bundle,
      // loaded on first use, so a cold start parses only what every invocation needs.
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      outExtension: { '.js': '.mjs' },
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
      plugins: [preferModernMns(), patchTablestore(), englishZodOnly()],
      // ali-oss's HTTP client loads proxy-agent only when a proxy is configured; FC sets none.
      external: ['proxy-agent'],
      // CommonJS packages inside an ES module bundle call require() for Node built-ins.
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
    });
    // The API function serves the operator console from beside its bundle (functions/api/index.ts).
    if (name === 'api') await buildConsole(path.join(dir, 'console'));
    for (const script of GUEST_SCRIPTS)
      copyFileSync(path.join(REPO, 'lib', 'guest', script), path.join(dir, script));
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
    built.push({
      name,
      dir,
      bundle,
      bytes: statSync(bundle).size,
      gzipBytes: outputs.filter(([, o]) => !isLazy(o)).reduce((n, [f]) => n + gz(f), 0),
      lazyGzipBytes: outputs.filter(([, o]) => isLazy(o)).reduce((n, [f]) => n + gz(f), 0),
      inputs,
      externals,
    });
  }
  writeFileSync(
    path.join(outRoot, 'manifest.json'),
    `${JSON.stringify(
      built.map(({ name, bytes, gzipBytes, lazyGzipBytes }) => ({ name, bytes, gzipBytes, lazyGzipBytes })),
      null,
      2,
    )}\n`,
  );
  return built;
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
      `${b.name.padEnd(10)} ${path.relative(REPO, b.bundle)}  ${(b.bytes / 1024).toFixed(0)} KB, ${(b.gzipBytes / 1024).toFixed(0)} KB gzipped`,
    );
  }
}
