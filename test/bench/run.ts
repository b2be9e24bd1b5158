import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Runs every test/bench/*.bench.ts (or those named on the command line) and prints one table. */
interface BenchRow {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const rows: (BenchRow & { file: string })[] = [];
let failed = false;
for (const file of files) {
  process.stdout.write(`running ${file} ...\n`);
  const started = performance.now();
  try {
    const mod = (await import(pathToFileURL(path.join(here, file)).href)) as {
      default: () => Promise<BenchRow[]>;
    };
    for (const row of await mod.default()) rows.push({ ...row, file });
  } catch (err) {
    failed = true;
    console.error(`${file} failed:`, err);
  }
  process.stdout.write(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
console.log('\n| benchmark | value | target | |\n|---|---|---|---|');
for (const r of rows) {
  const verdict = r.pass === undefined ? '' : r.pass ? 'ok' : 'MISSED';
  console.log(`| ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.target ?? ''} | ${verdict} |`);
}
process.exit(failed ? 1 : 0);
