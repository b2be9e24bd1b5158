import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface BuiltConsole {
  dir: string;
  /** Asset paths relative to `dir`, e.g. `assets/main-3F2A1B.js`. */
  assets: string[];
  /** What a first load fetches: the entry script, gzipped. */
  jsBytes: number;
  jsGzipBytes: number;
}

/**
 * The operator console as static files: `index.html` plus content-hashed assets under `assets/`,
 * so an asset can be cached for a year and a new build is picked up by the next `index.html`.
 * The page carries no inline script or style (the API serves it under a strict CSP).
 */
export async function buildConsole(outDir: string): Promise<BuiltConsole> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: REPO,
    entryPoints: { main: path.join(REPO, 'lib', 'console', 'main.tsx') },
    outdir: path.join(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const assets = Object.keys(result.metafile.outputs).map((f) =>
    path.relative(outDir, path.resolve(REPO, f)).split(path.sep).join('/'),
  );
  const js = assets.find((a) => a.endsWith('.js'));
  const css = assets.find((a) => a.endsWith('.css'));
  if (js === undefined || css === undefined) throw new Error('the console build made no script or style');
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>ecs-backup console</title>',
    `<link rel="stylesheet" href="/console/${css}">`,
    `<script type="module" src="/console/${js}"></script>`,
    '</head>',
    '<body><div id="app"></div></body>',
    '</html>',
    '',
  ].join('\n');
  writeFileSync(path.join(outDir, 'index.html'), html);
  const jsText = readFileSync(path.join(outDir, js));
  return { dir: outDir, assets, jsBytes: jsText.length, jsGzipBytes: gzipSync(jsText).length };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildConsole(path.join(REPO, 'dist', 'console'));
  console.log(`console ${built.dir}: ${(built.jsGzipBytes / 1024).toFixed(1)} KB of JS gzipped`);
}
