import { fork } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Runs every test/bench/*.bench.ts (or those named on the command line) and prints one table.
 *
 * Each file runs in its own child process (this script with `--child <file>`, same Node flags, so
 * the TypeScript loader too): a benchmark then starts on a fresh heap and an idle event loop instead
 * of inheriting the garbage, servers and timers of the files that ran before it, and a crash stays
 * confined to its file. The child sends its rows back over the IPC channel.
 */
interface BenchRow {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

type ChildMessage = { rows: BenchRow[] } | { error: string };

const self = fileURLToPath(import.meta.url);
const here = path.dirname(self);

async function runChild(file: string): Promise<never> {
  let message: ChildMessage;
  try {
    const mod = (await import(pathToFileURL(path.join(here, file)).href)) as {
      default: () => Promise<BenchRow[]>;
    };
    message = { rows: await mod.default() };
  } catch (err) {
    message = { error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  const code = 'error' in message ? 1 : 0;
  // Exit explicitly: a benchmark may leave handles open, and its numbers are already taken.
  if (process.send === undefined) {
    console.log(JSON.stringify(message, null, 2));
    process.exit(code);
  }
  const send = process.send.bind(process);
  return new Promise<never>(() => {
    send(message, () => process.exit(code));
  });
}

function runFile(file: string): Promise<BenchRow[]> {
  return new Promise((resolve, reject) => {
    // `advanced` serialization keeps NaN and Infinity, which JSON would turn into null.
    const child = fork(self, ['--child', file], { stdio: 'inherit', serialization: 'advanced' });
    let message: ChildMessage | undefined;
    child.on('message', (m) => {
      message = m as ChildMessage;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (message !== undefined && 'rows' in message) resolve(message.rows);
      else if (message !== undefined) reject(new Error(message.error));
      else reject(new Error(`exited with ${signal ?? `code ${code}`} before reporting`));
    });
  });
}

async function main(): Promise<never> {
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
      for (const row of await runFile(file)) rows.push({ ...row, file });
    } catch (err) {
      failed = true;
      console.error(`${file} failed:`, err instanceof Error ? err.message : err);
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
}

if (process.argv[2] === '--child' && process.argv[3] !== undefined) await runChild(process.argv[3]);
else await main();
