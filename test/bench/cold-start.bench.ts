import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { buildFunctions, type FunctionName } from '../../infra/build.js';
import { encodeMnsBody } from '../../lib/adapters/mns/codec.js';
import { encodeJobMessage } from '../../lib/usecases/jobs/job-message.js';
import { startCloudMode, type CloudMode } from '../../local/cloud-mode/index.js';
import { timerEvent } from '../../local/runtime/timers.js';

/**
 * Cold start of each deployed function: its bundle's size, and the time a fresh Node process takes
 * to import the bundle and answer its first valid event, as deployed: the deployed settings (an
 * exports bucket too) on the Tablestore, MNS, ECS and OSS emulators, so the answer is a real
 * success, and a failed answer fails the row. Each run is a new process with the deployed Node
 * options (none: `--enable-source-maps` would parse the map at every cold start); the page cache of
 * the bundle's files is dropped first where the system lets us (GNU dd's nocache), so they are read
 * as a fresh instance reads them. The first answer includes the emulators' answers over loopback.
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

/** A valid first event per function, as its trigger sends it, and whether its answer is a success. */
interface FirstEvent {
  event: (cloud: CloudMode) => string;
  succeeded: (answer: unknown) => boolean;
}

const isReport = (answer: unknown) => typeof answer === 'object' && answer !== null && !('error' in answer);

const FIRST_EVENTS: Record<FunctionName, FirstEvent> = {
  // The FC HTTP trigger: an operator's first call, a list read from Tablestore.
  api: {
    event: (cloud) =>
      JSON.stringify({
        version: 'v1',
        rawPath: '/api/v1/plans',
        headers: { authorization: `Bearer ${cloud.apiToken}` },
        queryParameters: {},
        body: '',
        isBase64Encoded: false,
        requestContext: { requestId: 'bench', http: { method: 'GET', path: '/api/v1/plans' } },
      }),
    succeeded: (answer) => (answer as { statusCode?: number }).statusCode === 200,
  },
  scheduler: {
    event: () => JSON.stringify(timerEvent('scheduler-every-minute', new Date())),
    succeeded: isReport,
  },
  // The EventBridge MNS trigger's batch: a job message for a job that is not there (acknowledged).
  worker: {
    event: () =>
      JSON.stringify([
        {
          id: randomUUID(),
          type: 'mns:Queue:SendMessage',
          data: { messageId: randomUUID(), messageBody: encodeMnsBody(encodeJobMessage('job-bench-absent')) },
        },
      ]),
    succeeded: (answer) => (answer as { batchItemFailures?: unknown[] }).batchItemFailures?.length === 0,
  },
  retention: { event: () => JSON.stringify(timerEvent('retention-hourly', new Date())), succeeded: isReport },
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
  /** From the import to the function's `instance ready` log: the dependencies built. */
  readyMs: number;
  firstAnswerMs: number;
  answer: unknown;
  deferredMs: Record<string, number>;
}

const run = promisify(execFile);

/** The script a fresh process runs: import the bundle, answer the event, then load each deferred SDK. */
function childScript(
  bundle: string,
  event: string,
  cloud: CloudMode,
  deferred: Record<string, string>,
): string {
  return `
    const t0 = performance.now();
    const m = await import(${JSON.stringify(pathToFileURL(bundle).href)});
    const t1 = performance.now();
    const answer = await m.handler(Buffer.from(${JSON.stringify(event)}), {
      requestId: 'bench',
      credentials: ${JSON.stringify(cloud.credentials())},
    }).catch((err) => ({ error: String(err) }));
    const t2 = performance.now();
    const deferredMs = {};
    for (const [name, url] of Object.entries(${JSON.stringify(
      Object.fromEntries(Object.entries(deferred).map(([k, f]) => [k, pathToFileURL(f).href])),
    )})) {
      const t = performance.now();
      await import(url);
      deferredMs[name] = performance.now() - t;
    }
    process.stdout.write('\\n' + JSON.stringify({ t0, importMs: t1 - t0, firstAnswerMs: t2 - t0, answer, deferredMs }));`;
}

async function coldStartMs(
  bundle: string,
  event: string,
  cloud: CloudMode,
  deferred: Record<string, string>,
): Promise<ColdStart> {
  const code = childScript(bundle, event, cloud, deferred);
  // Not execFileSync: the emulators the function calls answer from this process's event loop.
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...cloud.env },
  });
  const lines = stdout.trim().split('\n');
  const result = JSON.parse(lines.pop()!) as Omit<ColdStart, 'readyMs'> & { t0: number };
  const ready = lines
    .filter((l) => l.includes('"instance ready"'))
    .map((l) => (JSON.parse(l) as { msSinceProcessStart: number }).msSinceProcessStart)[0];
  if (ready === undefined) throw new Error('the function logged no "instance ready" line');
  return { ...result, readyMs: ready - result.t0 };
}

/**
 * Instructions a process executes (valgrind's cachegrind, all threads), when valgrind is installed:
 * unlike wall-clock time, the count hardly moves with the load other processes put on the machine,
 * so a change's effect shows on a busy machine too. Null without valgrind.
 */
async function instructions(args: string[], env: Record<string, string>): Promise<number | null> {
  if (spawnSync('valgrind', ['--version']).status !== 0) return null;
  const { stderr } = await run(
    'valgrind',
    ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, ...args],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, maxBuffer: 16 * 1024 * 1024 },
  );
  const refs = /I\s+refs:\s+([\d,]+)/.exec(stderr);
  return refs === null ? null : Number(refs[1]!.replace(/,/g, ''));
}

export default async function bench(): Promise<Row[]> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ecs-backup-cold-start-'));
  let cloud: CloudMode | undefined;
  const rows: Row[] = [];
  try {
    const bundlesDir = path.join(out, 'bundles');
    const built = await buildFunctions(bundlesDir);
    cloud = await startCloudMode({ dataDir: out, bundlesDir, timers: false });
    const nodeItself = await instructions(['-e', ''], {});
    if (nodeItself !== null)
      rows.push({
        name: 'node -e "" (the part of every count below that is Node itself)',
        value: nodeItself / 1e6,
        unit: 'M instructions',
      });
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
      const readies: number[] = [];
      const answers: number[] = [];
      const later: Record<string, number[]> = {};
      const failed: string[] = [];
      const first = FIRST_EVENTS[b.name];
      for (let i = 0; i < RUNS; i += 1) {
        for (const file of b.files) cacheDropped = dropCache(file) && cacheDropped;
        const t = await coldStartMs(b.bundle, first.event(cloud), cloud, deferred);
        if (!first.succeeded(t.answer)) failed.push(JSON.stringify(t.answer).slice(0, 300));
        imports.push(t.importMs);
        readies.push(t.readyMs);
        answers.push(t.firstAnswerMs);
        for (const [label, ms] of Object.entries(t.deferredMs)) (later[label] ??= []).push(ms);
      }
      rows.push({
        name: `${b.name} import of the bundle (median of ${RUNS})`,
        value: median(imports),
        unit: 'ms',
      });
      const dropped = cacheDropped ? ', page cache dropped' : '';
      const ready = median(readies);
      rows.push({
        name: `${b.name} import + cloud dependencies built (median of ${RUNS}${dropped})`,
        value: ready,
        unit: 'ms',
        target: `<= ${COLD_START_TARGET_MS} ms`,
        pass: ready <= COLD_START_TARGET_MS,
      });
      // The first answer adds the function's own work and the emulators' answers over loopback.
      rows.push({
        name:
          `${b.name} import + cloud dependencies built + first answer (median of ${RUNS}${dropped})` +
          (failed.length > 0 ? `; ${failed.length} answers FAILED, e.g. ${failed[0]}` : ''),
        value: median(answers),
        unit: 'ms',
        target: 'answered with success',
        pass: failed.length === 0,
      });
      const counted = await instructions(
        ['--input-type=module', '-e', childScript(b.bundle, first.event(cloud), cloud, {})],
        cloud.env,
      );
      if (counted !== null)
        rows.push({
          name: `${b.name} import + cloud dependencies built + first answer, instructions (cachegrind, one run)`,
          value: counted / 1e6,
          unit: 'M instructions',
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
    await cloud?.close();
    rmSync(out, { recursive: true, force: true });
  }
}
