import fs from 'node:fs';
import path from 'node:path';
import { createHandler as createApiHandler } from '../functions/api/index.js';
import { createHandler as createRetentionHandler } from '../functions/retention/index.js';
import { createHandler as createSchedulerHandler } from '../functions/scheduler/index.js';
import { createHandler as createWorkerHandler } from '../functions/worker/index.js';
import { loadSettings } from '../lib/config.js';
import type { Job, JobStatus } from '../lib/domain/model.js';
import { buildDeps, QUEUE_FILE, SQLITE_FILE } from '../lib/runtime/build-deps.js';
import type { Deps, Logger } from '../lib/runtime/deps.js';
import { createFsObjectStore, type FsObjectStore } from '../lib/adapters/fs-object-store/index.js';
import { serveSignedObject } from '../lib/adapters/fs-object-store/serve.js';
import { silentLogger } from '../lib/runtime/logger.js';
import { enforceRetention, type RetentionReport } from '../lib/usecases/retention.js';
import { enforceCopyRetention } from '../lib/usecases/copy/copy-retention.js';
import { schedulerTick, type TickReport } from '../lib/usecases/scheduler-tick.js';
import {
  connectEcsEmulator,
  DEFAULT_REGIONS,
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_ACCESS_KEY_SECRET,
  DEMO_SEED_PATH,
  startEcsEmulator,
  type EcsEmulator,
  type EcsEmulatorOptions,
} from './ecs-emulator/index.js';
import { buildConsole } from '../infra/console.js';
import { startHttpBridge } from './http-bridge.js';
import { startQueueConsumer } from './runtime/consumer.js';
import { secureDataDir } from './runtime/data-dir.js';
import { startTimer } from './runtime/timers.js';
import { UploadHolds } from './runtime/upload-holds.js';
import { resolveApiToken } from './runtime/token.js';

export interface LocalCloudOptions {
  dataDir: string;
  /** API port; 0 = a free port. Default: PORT from the settings (8080). */
  port?: number;
  apiToken?: string;
  emulator?: Partial<EcsEmulatorOptions>;
  /** Scheduler and retention timers. Default true. */
  timers?: boolean;
  /** Queue consumer invoking the worker. Default true. */
  consumer?: boolean;
  /** Snapshots complete within about a second, polls every second: for tests. */
  fast?: boolean;
  /** Settings as environment variables (process.env is not read unless passed here). */
  settings?: Record<string, string | undefined>;
  log?: Logger;
  /** Start-up steps, for a person watching. */
  onProgress?: (step: string) => void;
  /** Build the operator console into the data folder and serve it at /console. Default true. */
  console?: boolean;
}

export interface LocalCloud {
  apiUrl: string;
  apiToken: string;
  /** True when the token was generated on this start (not configured, not found in the data folder). */
  apiTokenGenerated: boolean;
  emulator: EcsEmulator;
  deps: Deps;
  tickScheduler(now?: number): Promise<void>;
  runRetention(now?: number): Promise<void>;
  lastTick(): TickReport | null;
  lastRetention(): RetentionReport | null;
  waitForJob(jobId: string, statuses: JobStatus[], timeoutMs?: number): Promise<Job>;
  /** Holds uploads to the local object store (signed PUTs) until released. */
  uploadHolds: UploadHolds;
  close(): Promise<void>;
}

/**
 * The emulator finishes a snapshot in seconds, not minutes: poll it more often than a real region
 * needs (10 s), so a local backup completes in a few seconds. An explicit setting wins.
 */
const LOCAL_SETTINGS: Record<string, string> = {
  POLL_INTERVAL_SECONDS: '2',
};

/** Defaults that make a backup take a second or two instead of tens of seconds. */
const FAST_SETTINGS: Record<string, string> = {
  POLL_INTERVAL_SECONDS: '1',
  QUEUE_VISIBILITY_TIMEOUT_SECONDS: '3',
  SCHEDULER_TICK_SECONDS: '1',
  JOB_STALL_SECONDS: '30',
  WORKER_BATCH_SIZE: '8',
};

const FAST_EMULATOR: Partial<EcsEmulatorOptions> = {
  snapshotBaseMs: 300,
  snapshotSpeedBytesPerSec: 64 * 1024 * 1024 * 1024,
  asyncOperationMs: 100,
  agentDeliveryTimeoutMs: 3_000,
};

/**
 * The whole product in one process on loopback (design §7): the ECS emulator, SQLite and the
 * embedded queue in the data folder, timers firing the scheduler and retention functions with FC
 * timer events, a queue consumer invoking the worker with MNS CloudEvents, and an HTTP server
 * handing FC HTTP events to the API function. The functions are the ones deployed to FC.
 */
export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const progress = options.onProgress ?? (() => undefined);
  const log = options.log ?? silentLogger;
  const dataDir = path.resolve(options.dataDir);
  secureDataDir(dataDir, [SQLITE_FILE, QUEUE_FILE]);
  const env = {
    ...LOCAL_SETTINGS,
    ...(options.fast ? FAST_SETTINGS : {}),
    ...definedOnly(options.settings ?? {}),
  };
  const base = loadSettings({ ...env, DATA_DIR: dataDir });
  const { token, generated } = resolveApiToken(dataDir, options.apiToken ?? base.API_TOKEN);

  progress(
    base.ECS_ENDPOINT
      ? `connecting to the ECS emulator at ${base.ECS_ENDPOINT}`
      : 'starting the ECS emulator',
  );
  const emulatorOptions: EcsEmulatorOptions = {
    dataDir: path.join(dataDir, 'ecs-emulator'),
    // Tests ask for a free API port; the emulator then takes a free one too unless told otherwise.
    port: env.ECS_EMULATOR_PORT === undefined && options.port === 0 ? 0 : base.ECS_EMULATOR_PORT,
    ...(base.ECS_EMULATOR_REGION ? { regionId: base.ECS_EMULATOR_REGION } : {}),
    ...(base.ECS_EMULATOR_ACCESS_KEY_ID ? { accessKeyId: base.ECS_EMULATOR_ACCESS_KEY_ID } : {}),
    ...(base.ECS_EMULATOR_ACCESS_KEY_SECRET ? { accessKeySecret: base.ECS_EMULATOR_ACCESS_KEY_SECRET } : {}),
    ...(fs.existsSync(DEMO_SEED_PATH) ? { seed: DEMO_SEED_PATH } : {}),
    guest: base.ECS_EMULATOR_GUEST,
    ...(options.fast ? FAST_EMULATOR : {}),
    ...(options.emulator ?? {}),
  };
  // ECS_ENDPOINT: an emulator already running in its own process (README, "The local cloud").
  const emulator = base.ECS_ENDPOINT
    ? await connectEcsEmulator({
        url: base.ECS_ENDPOINT,
        regionId: base.ECS_EMULATOR_REGION ?? base.ECS_REGION,
        accessKeyId: base.ECS_EMULATOR_ACCESS_KEY_ID ?? DEFAULT_ACCESS_KEY_ID,
        accessKeySecret: base.ECS_EMULATOR_ACCESS_KEY_SECRET ?? DEFAULT_ACCESS_KEY_SECRET,
      })
    : await startEcsEmulator(emulatorOptions);
  const cleanups: (() => Promise<void>)[] = [() => emulator.close()];
  try {
    const settings = loadSettings({
      ...env,
      DATA_DIR: dataDir,
      API_TOKEN: token,
      STORE: 'sqlite',
      QUEUE: 'embedded',
      ECS_ENDPOINT: emulator.url,
      ECS_REGION: emulator.regionId,
      // The regions the emulator serves, unless the environment names others.
      COPY_REGIONS: env.COPY_REGIONS ?? DEFAULT_REGIONS.join(','),
    });
    progress('opening the store and the queues');
    const built = await buildDeps(settings, {
      log,
      credentials: () => ({ accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret }),
      embeddedQueuePollMs: options.fast ? 20 : 100,
      sqliteSynchronous: options.fast ? 'NORMAL' : 'FULL',
    });
    cleanups.unshift(() => built.close());
    const deps = built.deps;
    // The functions as deployed, each on these dependencies (FC builds its own at cold start).
    let consoleDir: string | undefined;
    if (options.console ?? true) {
      progress('building the console');
      // Built on each start from the sources, so a clean clone and an edited one both serve the current code.
      consoleDir = (await buildConsole(path.join(dataDir, 'console'))).dir;
    }
    const apiHandler = createApiHandler(deps, consoleDir ?? path.join(dataDir, 'console-not-built'));
    const schedulerHandler = createSchedulerHandler(deps);
    const retentionHandler = createRetentionHandler(deps);
    const workerHandler = createWorkerHandler(deps);

    progress('starting the API');
    const objects: { store?: FsObjectStore } = {};
    const uploadHolds = new UploadHolds();
    const bridge = await startHttpBridge({
      handler: apiHandler,
      port: options.port ?? settings.PORT,
      // The guest script uploads and browsers download here, over loopback, through signed URLs.
      serveOther: (req, res) =>
        objects.store
          ? serveSignedObject(objects.store, '/objects', req, res, Date.now(), (key) => uploadHolds.wait(key))
          : Promise.resolve(false),
    });
    cleanups.unshift(() => bridge.close());
    // Exports land in a folder; download links point at the local API and are signed with the token.
    objects.store = createFsObjectStore({
      root: path.join(dataDir, 'objects'),
      baseUrl: `${bridge.url}/objects`,
      secret: token,
    });
    deps.objectStore = objects.store;

    const onError = (what: string) => (err: unknown) =>
      log.error(`${what} failed`, { error: err instanceof Error ? err.message : String(err) });
    let tick: TickReport | null = null;
    let retention: RetentionReport | null = null;
    if (options.timers ?? true) {
      const scheduler = startTimer({
        name: 'scheduler-every-minute',
        functionName: 'scheduler',
        everyMs: settings.SCHEDULER_TICK_SECONDS * 1000,
        fireAtStart: true,
        invoke: async (event, context) => {
          tick = await schedulerHandler(event, context);
        },
        onError: onError('scheduler'),
      });
      const retentionTimer = startTimer({
        name: 'retention-hourly',
        functionName: 'retention',
        everyMs: settings.RETENTION_TICK_SECONDS * 1000,
        invoke: async (event, context) => {
          retention = await retentionHandler(event, context);
        },
        onError: onError('retention'),
      });
      cleanups.unshift(
        () => scheduler.stop(),
        () => retentionTimer.stop(),
      );
    }
    if (options.consumer ?? true) {
      const consumer = startQueueConsumer({
        queue: () => deps.jobQueue,
        invoke: workerHandler,
        concurrency: settings.WORKER_CONCURRENCY,
        batchSize: settings.WORKER_BATCH_SIZE,
        queueName: settings.JOB_QUEUE,
        onError: onError('worker invocation'),
      });
      cleanups.unshift(() => consumer.stop());
    }

    let closed = false;
    return {
      apiUrl: bridge.url,
      apiToken: token,
      apiTokenGenerated: generated,
      emulator,
      deps,
      lastTick: () => tick,
      lastRetention: () => retention,
      async tickScheduler(now?: number) {
        tick = await schedulerTick(deps, now ?? deps.clock.now());
      },
      async runRetention(now?: number) {
        retention = await enforceRetention(deps, now ?? deps.clock.now(), { checkLockDrift: true });
        retention.copies = await enforceCopyRetention(deps, now ?? deps.clock.now());
      },
      waitForJob: (jobId, statuses, timeoutMs = 30_000) => waitForJob(deps, jobId, statuses, timeoutMs),
      uploadHolds,
      async close() {
        if (closed) return;
        closed = true;
        for (const cleanup of cleanups) await cleanup().catch(onError('shutdown step'));
      },
    };
  } catch (err) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw err;
  }
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

async function waitForJob(deps: Deps, jobId: string, statuses: JobStatus[], timeoutMs: number): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  let last: Job | undefined;
  for (;;) {
    last = await deps.store.jobs.get(jobId);
    if (last && statuses.includes(last.status)) return last;
    if (Date.now() > deadline) {
      const seen = last
        ? `${last.status} at step ${last.step} (${last.reason ?? 'no reason'})`
        : 'no such job';
      throw new Error(`job ${jobId} did not reach ${statuses.join('|')} within ${timeoutMs} ms: ${seen}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
