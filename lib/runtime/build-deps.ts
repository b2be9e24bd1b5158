import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../config.js';
import { SystemClock } from '../adapters/system.js';
import type { Clock } from '../ports/clock.js';
import type { Queue } from '../ports/queue.js';
import type { Store } from '../ports/store.js';
import {
  assembleDeps,
  DEAD_LETTER_QUEUE_SETTINGS,
  jobQueueSettings,
  mnsTopics,
  openEcs,
  openMnsQueues,
  openTablestore,
  type BuiltDeps,
  type CloudDepsOptions,
} from './cloud-deps.js';
import { credentialsFromEnvironment } from './credentials.js';

export { jobQueueSettings, type BuiltDeps } from './cloud-deps.js';

export interface BuildDepsOptions extends CloudDepsOptions {
  /** Embedded queue tuning (the local cloud polls faster in tests). */
  embeddedQueuePollMs?: number;
  /** SQLite durability: FULL by default; the local cloud's fast mode uses NORMAL. */
  sqliteSynchronous?: 'NORMAL' | 'FULL';
}

export const SQLITE_FILE = 'ecs-backup.sqlite';
export const QUEUE_FILE = 'queues.sqlite';

/**
 * Everything a use case needs, from settings, for the local cloud and tests: SQLite or Tablestore,
 * the embedded queue or MNS. Adapters are imported only when chosen. Deployed functions use
 * `buildCloudDeps`, which cannot reach SQLite.
 */
export async function buildDeps(settings: Settings, options: BuildDepsOptions = {}): Promise<BuiltDeps> {
  const clock = options.clock ?? new SystemClock();
  const credentials = options.credentials ?? (() => credentialsFromEnvironment(process.env));
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const store =
      settings.STORE === 'sqlite'
        ? await openSqlite(settings, clock, options, closers)
        : await openTablestore(settings, credentials);
    const queues =
      settings.QUEUE === 'embedded'
        ? await openEmbeddedQueues(settings, clock, options, closers)
        : await openMnsQueues(settings, credentials);
    const ecs = await openEcs(settings, clock, credentials);
    const topics = mnsTopics(settings, credentials);
    return {
      deps: assembleDeps(settings, { store, ...queues, ecs, clock, ...(topics ? { topics } : {}) }, options),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

async function openSqlite(
  settings: Settings,
  clock: Clock,
  options: BuildDepsOptions,
  closers: (() => Promise<void>)[],
): Promise<Store> {
  mkdirSync(settings.DATA_DIR, { recursive: true });
  const { openSqliteStore } = await import('../adapters/sqlite/index.js');
  const store = openSqliteStore(path.join(settings.DATA_DIR, SQLITE_FILE), {
    clock,
    synchronous: options.sqliteSynchronous ?? 'FULL',
  });
  closers.push(() => store.close());
  return store;
}

async function openEmbeddedQueues(
  settings: Settings,
  clock: Clock,
  options: BuildDepsOptions,
  closers: (() => Promise<void>)[],
): Promise<{ jobQueue: Queue; deadLetterQueue: Queue }> {
  mkdirSync(settings.DATA_DIR, { recursive: true });
  const { openEmbeddedQueue } = await import('../adapters/embedded-queue/index.js');
  const file = path.join(settings.DATA_DIR, QUEUE_FILE);
  const queueOptions = { pollIntervalMs: options.embeddedQueuePollMs ?? 100 };
  const jobQueue = openEmbeddedQueue(
    file,
    settings.JOB_QUEUE,
    jobQueueSettings(settings),
    clock,
    queueOptions,
  );
  const deadLetterQueue = openEmbeddedQueue(
    file,
    settings.DEAD_LETTER_QUEUE,
    DEAD_LETTER_QUEUE_SETTINGS,
    clock,
    queueOptions,
  );
  closers.push(
    () => jobQueue.close(),
    () => deadLetterQueue.close(),
  );
  return { jobQueue, deadLetterQueue };
}
