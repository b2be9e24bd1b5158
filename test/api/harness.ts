import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedQueue } from '../../lib/adapters/embedded-queue/index.js';
import { createEcsAdapter } from '../../lib/adapters/ecs/index.js';
import { openSqliteStore } from '../../lib/adapters/sqlite/index.js';
import type { SqliteStore } from '../../lib/adapters/sqlite/index.js';
import { loadSettings } from '../../lib/config.js';
import type { Ecs } from '../../lib/ports/ecs.js';
import type { Queue } from '../../lib/ports/queue.js';
import type { Deps, Logger } from '../../lib/runtime/deps.js';
import type { FcContext, FcHttpEvent, FcHttpResponse } from '../../lib/runtime/fc.js';
import { createHandler } from '../../functions/api/index.js';
import { startEcsEmulator } from '../../local/ecs-emulator/index.js';
import type { EcsEmulator, SeedConfig } from '../../local/ecs-emulator/index.js';
import { ManualClock, SequentialIds } from '../support/clock.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const T0 = Date.parse('2026-06-01T00:00:00Z');
/** Attempts the ECS adapter makes per call (the first included) before a transient failure surfaces. */
export const ECS_ATTEMPTS = 3;

export interface CallOptions {
  body?: unknown;
  /** Sent as is, instead of JSON.stringify(body). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
  /** null = no Authorization header. Default: the right token. */
  token?: string | null;
  query?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  // Tests read arbitrary JSON answers.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

export interface Harness {
  deps: Deps;
  store: SqliteStore;
  queue: Queue;
  clock: ManualClock;
  dir: string;
  emulator: EcsEmulator;
  logs: { level: string; message: string; fields?: Record<string, unknown> }[];
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** The API function on this harness's dependencies, and a call with a whole FC HTTP event. */
  api: (event: Buffer, context: FcContext) => Promise<FcHttpResponse>;
  invoke(event: FcHttpEvent): Promise<CallResult>;
  /** Every row of every table that holds product state (not the idempotency memo). */
  dump(): Record<string, unknown[]>;
  close(): Promise<void>;
}

let requestCounter = 0;

export function fcEvent(method: string, rawPath: string, options: CallOptions = {}): FcHttpEvent {
  const headers: Record<string, string> = { 'user-agent': 'vitest', ...(options.headers ?? {}) };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null && headers.authorization === undefined && headers.Authorization === undefined) {
    headers.authorization = `Bearer ${token}`;
  }
  let body = '';
  let isBase64Encoded = false;
  if (options.raw !== undefined) {
    if (Buffer.isBuffer(options.raw)) {
      body = options.raw.toString('base64');
      isBase64Encoded = true;
    } else body = options.raw;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
  }
  if (body !== '' && headers['content-type'] === undefined && headers['Content-Type'] === undefined) {
    headers['content-type'] = 'application/json';
  }
  requestCounter += 1;
  return {
    version: 'v1',
    rawPath,
    headers,
    queryParameters: options.query ?? {},
    body,
    isBase64Encoded,
    requestContext: {
      requestId: `req-${requestCounter}`,
      http: { method, path: rawPath, sourceIp: '127.0.0.1' },
    },
  };
}

async function invokeWith(api: ReturnType<typeof createHandler>, event: FcHttpEvent): Promise<CallResult> {
  const context: FcContext = { requestId: event.requestContext.requestId };
  const answer: FcHttpResponse = await api(Buffer.from(JSON.stringify(event)), context);
  const text = answer.body === undefined ? '' : answer.body;
  let body: unknown = undefined;
  if (text !== '') body = JSON.parse(text);
  return { status: answer.statusCode, headers: answer.headers ?? {}, body, text };
}

/**
 * The API in-process on real parts: SQLite store and embedded queue in a temp folder, and ECS = the
 * emulator (seeded with `seed`) behind the real adapter. Tests make ECS fail, slow or hold a call
 * through `emulator.admin`.
 */
export async function startHarness(options: {
  seed?: SeedConfig;
  apiToken?: string;
  /** More settings (variable name = value), e.g. BREAK_GLASS_TOKEN. */
  env?: Record<string, string>;
}): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ecsb-api-'));
  const emulator = await startEcsEmulator({
    dataDir: path.join(dir, 'ecs'),
    seed: options.seed ?? {},
    snapshotBaseMs: 50,
  });
  const ecs: Ecs = createEcsAdapter({
    endpoint: emulator.url,
    regionId: emulator.regionId,
    credentials: { accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret },
    // The suites send thousands of requests; the client-side rate limit is not what they test.
    defaultRatePerSecond: 100_000,
    burst: 1000,
    // Real retries on transient failures, with short backoffs so a test of a failing cloud stays fast.
    maxAttempts: ECS_ATTEMPTS,
    baseDelayMs: 5,
    maxDelayMs: 20,
  });
  const file = path.join(dir, 'state.db');
  const clock = new ManualClock(T0);
  const store = openSqliteStore(file, { synchronous: 'NORMAL', clock });
  const settings = {
    visibilityTimeoutSeconds: 60,
    maxReceiveCount: 5,
    deadLetterQueue: 'ecs-backup-jobs-dlq',
  };
  const queue = openEmbeddedQueue(file, 'ecs-backup-jobs', settings, clock);
  const deadLetterQueue = openEmbeddedQueue(
    file,
    'ecs-backup-jobs-dlq',
    { visibilityTimeoutSeconds: 60, maxReceiveCount: 1000 },
    clock,
  );
  const logs: Harness['logs'] = [];
  const log: Logger = {
    info: (message, fields) => logs.push({ level: 'info', message, fields }),
    warn: (message, fields) => logs.push({ level: 'warn', message, fields }),
    error: (message, fields) => logs.push({ level: 'error', message, fields }),
  };
  const deps: Deps = {
    store,
    jobQueue: queue,
    deadLetterQueue,
    ecs,
    clock,
    ids: new SequentialIds(),
    settings: loadSettings({ API_TOKEN: options.apiToken ?? TOKEN, DATA_DIR: dir, ...options.env }),
    log,
  };
  const api = createHandler(deps);
  const tables = (
    store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  )
    .map((r) => r.name)
    .filter(
      (n) =>
        n !== 'idempotency' && n !== 'schema_migrations' && n !== 'queue_schema' && !n.startsWith('sqlite_'),
    );
  return {
    deps,
    store,
    queue,
    clock,
    dir,
    emulator,
    logs,
    api,
    invoke: (event) => invokeWith(api, event),
    call: (method, p, o) => invokeWith(api, fcEvent(method, p, o)),
    dump() {
      const out: Record<string, unknown[]> = {};
      for (const t of tables) out[t] = store.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all();
      return out;
    },
    async close() {
      await queue.close();
      await deadLetterQueue.close();
      await store.close();
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
