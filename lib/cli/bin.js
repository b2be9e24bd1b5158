#!/usr/bin/env node
// Runs lib/cli/main.ts with no build step after `npm ci`: the sources are bundled by esbuild into
// node_modules/.cache/ecs-backup/ on first use, and again whenever a file under lib/cli/ (or
// package.json) is newer than the bundle. A prebuilt bundle starts with a quarter of the CPU of
// loading the TypeScript through a loader on every command, which scripts calling it in a loop feel.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = path.join(root, 'node_modules', '.cache', 'ecs-backup', 'cli.mjs');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(file) : fs.statSync(file).mtimeMs);
  }
  return newest;
}

const built = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
const sources = Math.max(
  newestSource(path.join(root, 'lib', 'cli')),
  fs.statSync(path.join(root, 'package.json')).mtimeMs,
);
if (built < sources) {
  const { build } = await import('esbuild');
  // Built beside the bundle and renamed, so commands started at the same time never load half a file.
  const partial = `${bundle}.${process.pid}.tmp`;
  await build({
    entryPoints: [path.join(root, 'lib', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: partial,
    logLevel: 'warning',
  });
  fs.renameSync(partial, bundle);
}
const { main } = await import(pathToFileURL(bundle).href);
process.exit(await main(process.argv.slice(2)));
