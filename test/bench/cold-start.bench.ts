import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildFunctions, type FunctionName } from '../../infra/build.js';

/**
 * Cold start of each deployed function: its bundle's size, and the time a fresh Node process takes
 * to import the bundle and answer its first (harmless, invalid) event, which builds the function's
 * cloud dependencies (Tablestore store, MNS queues, ECS adapter) on the way. Each run is a new
 * process with the deployed Node options (none: `--enable-source-maps` would parse the map at every
 * cold start); the page cache of the bundle's files is dropped first where the system lets us (GNU
 * dd's nocache), so they are read as a fresh instance reads them.
 *
 * The ECS and MNS SDKs load on the first call that needs them, not at cold start; the same process
 * then times loading each (`deferred` rows), which the first invocation that sends a message or calls
 * ECS pays once.
 */

interface Row {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

const RUNS = 7;
const GZIP_TARGET_KB = 400;
const COLD_START_TARGET_MS = 150;

/** Events each function refuses without touching the network: the answer comes after the cold start. */
const HARMLESS: Record<FunctionName, string> = {
  api: 'not json',
  scheduler: '{}',
  worker: '{}',
  retention: '{}',
};

const ENV = {
  STORE: 'tablestore',
  QUEUE: 'mns',
  TABLESTORE_ENDPOINT: 'http://127.0.0.1:9',
  TABLESTORE_INSTANCE: 'ecs-backup',
  MNS_ENDPOINT: 'http://127.0.0.1:9',
  ECS_REGION: 'cn-hangzhou',
  API_TOKEN: 'bench-token-0123456789',
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function dropCache(file: string): boolean {
  const r = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
  return r.status === 0;
}

/** The SDKs a function loads on first use, by the module whose `import()` loads them. */
const DEFERRED: Record<string, string> = {
  'ECS SDK': 'node_modules/@alicloud/openapi-client/dist/client.js',
  'MNS SDK': 'lib/adapters/mns/client.ts',
};

interface ColdStart {
  importMs: number;
  firstAnswerMs: number;
  deferredMs: Record<string, number>;
}

function coldStartMs(bundle: string, event: string, deferred: Record<string, string>): ColdStart {
  const code = `
    const t0 = performance.now();
    const m = await import(${JSON.stringify(pathToFileURL(bundle).href)});
    const t1 = performance.now();
    await m.handler(Buffer.from(${JSON.stringify(event)}), {
      requestId: 'bench',
      credentials: { accessKeyId: 'STS.bench', accessKeySecret: 'secret', securityToken: 'token' },
    });
    const t2 = performance.now();
    const deferredMs = {};
    for (const [name, url] of Object.entries(${JSON.stringify(
      Object.fromEntries(Object.entries(deferred).map(([k, f]) => [k, pathToFileURL(f).href])),
    )})) {
      const t = performance.now();
      await import(url);
      deferredMs[name] = performance.now() - t;
    }
    process.stdout.write('\\n' + JSON.stringify({ importMs: t1 - t0, firstAnswerMs: t2 - t0, deferredMs }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...ENV },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as ColdStart;
}

export default async function bench(): Promise<Row[]> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ecs-backup-cold-start-'));
  try {
    const built = await buildFunctions(out);
    const rows: Row[] = [];
    let cacheDropped = true;
    for (const b of built) {
      const kb = b.gzipBytes / 1024;
      rows.push({
        name: `${b.name} bundle, gzipped (${(b.bytes / 1024).toFixed(0)} KB raw; entry module ${(b.entryBytes / 1024).toFixed(0)} KB raw)`,
        value: kb,
        unit: 'KB',
        target: `<= ${GZIP_TARGET_KB} KB`,
        pass: kb <= GZIP_TARGET_KB,
      });
      const deferred = Object.fromEntries(
        Object.entries(DEFERRED).flatMap(([label, module]) =>
          b.onDemand[module] === undefined ? [] : [[label, b.onDemand[module]]],
        ),
      );
      const imports: number[] = [];
      const answers: number[] = [];
      const later: Record<string, number[]> = {};
      for (let i = 0; i < RUNS; i += 1) {
        for (const file of b.files) cacheDropped = dropCache(file) && cacheDropped;
        const t = coldStartMs(b.bundle, HARMLESS[b.name], deferred);
        imports.push(t.importMs);
        answers.push(t.firstAnswerMs);
        for (const [label, ms] of Object.entries(t.deferredMs)) (later[label] ??= []).push(ms);
      }
      rows.push({
        name: `${b.name} import of the bundle (median of ${RUNS})`,
        value: median(imports),
        unit: 'ms',
      });
      const cold = median(answers);
      rows.push({
        name: `${b.name} import + cloud dependencies built + first answer (median of ${RUNS}${cacheDropped ? ', page cache dropped' : ''})`,
        value: cold,
        unit: 'ms',
        target: `<= ${COLD_START_TARGET_MS} ms`,
        pass: cold <= COLD_START_TARGET_MS,
      });
      for (const [label, ms] of Object.entries(later))
        rows.push({
          name: `${b.name} deferred: ${label} loaded on first use (median)`,
          value: median(ms),
          unit: 'ms',
        });
    }
    return rows;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
