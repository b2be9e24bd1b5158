import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildConsole } from '../../infra/console.js';

/** Budget for the JavaScript a first visit to /console downloads (issue 12). */
const FIRST_LOAD_JS_GZIP_KB = 150;

/**
 * What a first load of the console costs: every script and style the page references, gzipped
 * as a server would send them, and how long the build takes.
 */
export default async function consoleBench() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-console-bench-'));
  try {
    const started = performance.now();
    const built = await buildConsole(path.join(dir, 'console'));
    const buildMs = performance.now() - started;
    const gz = (suffix: string) =>
      built.assets
        .filter((a) => a.endsWith(suffix))
        .reduce((sum, a) => sum + gzipSync(fs.readFileSync(path.join(built.dir, a))).length, 0);
    const jsKb = gz('.js') / 1024;
    return [
      {
        name: 'console first load: JavaScript, gzipped',
        value: jsKb,
        unit: 'KB',
        target: `≤ ${FIRST_LOAD_JS_GZIP_KB} KB`,
        pass: jsKb <= FIRST_LOAD_JS_GZIP_KB,
      },
      { name: 'console first load: CSS, gzipped', value: gz('.css') / 1024, unit: 'KB' },
      { name: 'console build (esbuild)', value: buildMs, unit: 'ms' },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
