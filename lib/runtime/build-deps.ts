import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ecsRateLimits, type Settings } from '../config.js';
import { RandomIds, SystemClock } from '../adapters/system.js';
import type { Clock, IdSource } from '../ports/clock.js';
import type { Ecs } from '../ports/ecs.js';
import type { Queue, QueueSettings } from '../ports/queue.js';
import type { Store } from '../ports/store.js';
import { credentialsFromEnvironment } from './credentials.js';
import type { Deps, Logger } from './deps.js';
import type { FcCredentials } from './fc.js';
import { createJsonLogger } from './logger.js';

export interface BuildDepsOptions {
  clock?: Clock;
  ids?: IdSource;
  log?: Logger;
  /** Credentials for ECS, Tablestore and MNS, read per request; default: the environment's keys. */
  credentials?: () => FcCredentials;
  /** Embedded queue tuning (the local cloud polls faster in tests). */
  embeddedQueuePollMs?: number;
  /** SQLite durability: FULL by default; the local cloud's fast mode uses NORMAL. */
  sqliteSynchronous?: 'NORMAL' | 'FULL';
}

export interface BuiltDeps {
  deps: Deps;
  close(): Promise<void>;
}

export const SQLITE_FILE = 'ecs-backup.sqlite';
export const QUEUE_FILE = 'queues.sqlite';

/** The job queue's settings; MNS has the same numbers set on the queue by `infra/queues.ts`. */
export function jobQueueSettings(settings: Settings): QueueSettings {
  return {
    visibilityTimeoutSeconds: settings.QUEUE_VISIBILITY_TIMEOUT_SECONDS,
    // The worker dead-letters at MAX_RECEIVE_COUNT and fails the job; the queue's own limit is the backstop.
    maxReceiveCount: settings.MAX_RECEIVE_COUNT + 1,
    deadLetterQueue: settings.DEAD_LETTER_QUEUE,
  };
}

/**
 * Everything a use case needs, from settings. Adapters are imported only when chosen, so a function
 * on Tablestore + MNS never loads SQLite and the reverse (cold start).
 */
export async function buildDeps(settings: Settings, options: BuildDepsOptions = {}): Promise<BuiltDeps> {
  const clock = options.clock ?? new SystemClock();
  const credentials = options.credentials ?? (() => credentialsFromEnvironment(process.env));
  const closers: (() => Promise<void>)[] = [];
  const store = await openStore(settings, clock, credentials, options, closers);
  const { jobQueue, deadLetterQueue } = await openQueues(settings, clock, credentials, options, closers);
  const ecs = await openEcs(settings, clock, credentials);
  const deps: Deps = {
    store,
    jobQueue,
    deadLetterQueue,
    ecs,
    clock,
    ids: options.ids ?? new RandomIds(),
    settings,
    log: options.log ?? createJsonLogger(),
  };
  return {
    deps,
    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
    },
  };
}

async function openStore(
  settings: Settings,
  clock: Clock,
  credentials: () => FcCredentials,
  options: BuildDepsOptions,
  closers: (() => Promise<void>)[],
): Promise<Store> {
  if (settings.STORE === 'sqlite') {
    mkdirSync(settings.DATA_DIR, { recursive: true });
    const { openSqliteStore } = await import('../adapters/sqlite/index.js');
    const store = openSqliteStore(path.join(settings.DATA_DIR, SQLITE_FILE), {
      clock,
      synchronous: options.sqliteSynchronous ?? 'FULL',
    });
    closers.push(() => store.close());
    return store;
  }
  return openTablestore(settings, credentials);
}

async function openTablestore(settings: Settings, credentials: () => FcCredentials): Promise<Store> {
  if (!settings.TABLESTORE_ENDPOINT || !settings.TABLESTORE_INSTANCE) {
    throw new Error('STORE=tablestore needs TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE');
  }
  const { createTablestoreStore } = await import('../adapters/tablestore/index.js');
  return createTablestoreStore({
    endpoint: settings.TABLESTORE_ENDPOINT,
    instanceName: settings.TABLESTORE_INSTANCE,
    // Read per request: FC's STS credentials rotate.
    credentials: () => credentials(),
  });
}

async function openQueues(
  settings: Settings,
  clock: Clock,
  credentials: () => FcCredentials,
  options: BuildDepsOptions,
  closers: (() => Promise<void>)[],
): Promise<{ jobQueue: Queue; deadLetterQueue: Queue }> {
  const jobSettings = jobQueueSettings(settings);
  const dlqSettings: QueueSettings = { visibilityTimeoutSeconds: 60, maxReceiveCount: 1000 };
  if (settings.QUEUE === 'embedded') {
    mkdirSync(settings.DATA_DIR, { recursive: true });
    const { openEmbeddedQueue } = await import('../adapters/embedded-queue/index.js');
    const file = path.join(settings.DATA_DIR, QUEUE_FILE);
    const queueOptions = { pollIntervalMs: options.embeddedQueuePollMs ?? 100 };
    const jobQueue = openEmbeddedQueue(file, settings.JOB_QUEUE, jobSettings, clock, queueOptions);
    const deadLetterQueue = openEmbeddedQueue(
      file,
      settings.DEAD_LETTER_QUEUE,
      dlqSettings,
      clock,
      queueOptions,
    );
    closers.push(
      () => jobQueue.close(),
      () => deadLetterQueue.close(),
    );
    return { jobQueue, deadLetterQueue };
  }
  if (!settings.MNS_ENDPOINT) throw new Error('QUEUE=mns needs MNS_ENDPOINT');
  const { createMnsQueue } = await import('../adapters/mns/index.js');
  // Read per request: FC's STS credentials rotate.
  const connection = { endpoint: settings.MNS_ENDPOINT, credentials };
  const jobQueue = createMnsQueue({ ...connection, name: settings.JOB_QUEUE, settings: jobSettings });
  const deadLetterQueue = createMnsQueue({
    ...connection,
    name: settings.DEAD_LETTER_QUEUE,
    settings: dlqSettings,
  });
  return { jobQueue, deadLetterQueue };
}

async function openEcs(settings: Settings, clock: Clock, credentials: () => FcCredentials): Promise<Ecs> {
  const { createEcsAdapter } = await import('../adapters/ecs/index.js');
  return createEcsAdapter({
    endpoint: settings.ECS_ENDPOINT ?? `ecs.${settings.ECS_REGION}.aliyuncs.com`,
    regionId: settings.ECS_REGION,
    credentials,
    rateLimits: ecsRateLimits(settings),
    defaultRatePerSecond: settings.ECS_DEFAULT_RATE_PER_SECOND,
    maxAttempts: settings.ECS_MAX_ATTEMPTS,
    clock,
  });
}
