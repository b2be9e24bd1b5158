import { createWebhookNotifier } from '../adapters/webhook/index.js';
import { ecsRateLimits, type Settings } from '../config.js';
import { RandomIds, SystemClock } from '../adapters/system.js';
import type { Clock, IdSource } from '../ports/clock.js';
import type { Ecs } from '../ports/ecs.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Queue, QueueSettings } from '../ports/queue.js';
import type { Store } from '../ports/store.js';
import type { TopicPublisher } from '../ports/topic-publisher.js';
import { credentialsFromEnvironment } from './credentials.js';
import type { Deps, Logger } from './deps.js';
import type { FcCredentials } from './fc.js';
import { createJsonLogger } from './logger.js';
import { lazyObjectStore } from './lazy-object-store.js';

export interface CloudDepsOptions {
  clock?: Clock;
  ids?: IdSource;
  log?: Logger;
  /** Credentials for ECS, Tablestore and MNS, read per request; default: the environment's keys. */
  credentials?: () => FcCredentials;
}

export interface BuiltDeps {
  deps: Deps;
  close(): Promise<void>;
}

/** The job queue's settings; MNS has the same numbers set on the queue by `infra/`. */
export function jobQueueSettings(settings: Settings): QueueSettings {
  return {
    visibilityTimeoutSeconds: settings.QUEUE_VISIBILITY_TIMEOUT_SECONDS,
    // The worker dead-letters at MAX_RECEIVE_COUNT and fails the job; the queue's own limit is the backstop.
    maxReceiveCount: settings.MAX_RECEIVE_COUNT + 1,
    deadLetterQueue: settings.DEAD_LETTER_QUEUE,
  };
}

export const DEAD_LETTER_QUEUE_SETTINGS: QueueSettings = {
  visibilityTimeoutSeconds: 60,
  maxReceiveCount: 1000,
};

/**
 * What a deployed function runs on: Tablestore, MNS and ECS, each signing every request with the
 * credentials valid at that moment. Imports no SQLite and no embedded queue, so neither ends up
 * in a function bundle (the local cloud's `buildDeps` adds them).
 */
export async function buildCloudDeps(settings: Settings, options: CloudDepsOptions = {}): Promise<BuiltDeps> {
  if (settings.STORE !== 'tablestore' || settings.QUEUE !== 'mns') {
    throw new Error(
      `a deployed function runs on STORE=tablestore and QUEUE=mns (got STORE=${settings.STORE}, ` +
        `QUEUE=${settings.QUEUE}); SQLite and the embedded queue belong to the local cloud (npm start)`,
    );
  }
  const clock = options.clock ?? new SystemClock();
  const credentials = options.credentials ?? (() => credentialsFromEnvironment(process.env));
  const [store, queues, ecs, objectStore] = await Promise.all([
    openTablestore(settings, credentials),
    openMnsQueues(settings, credentials),
    openEcs(settings, clock, credentials),
    openOss(settings, clock, credentials),
  ]);
  const topics = mnsTopics(settings, credentials);
  const deps = assembleDeps(
    settings,
    { store, ...queues, ecs, clock, ...(topics ? { topics } : {}) },
    options,
  );
  if (objectStore) deps.objectStore = objectStore;
  return {
    deps,
    close: () => Promise.resolve(),
  };
}

/**
 * Topic delivery of notifications, wherever an MNS endpoint is configured (always in the cloud;
 * locally when MNS_ENDPOINT points at an MNS, such as the emulator). The adapter is imported on the
 * first publish, so a function that never publishes never loads it.
 */
export function mnsTopics(settings: Settings, credentials: () => FcCredentials): TopicPublisher | undefined {
  const endpoint = settings.MNS_ENDPOINT;
  if (!endpoint) return undefined;
  let publisher: Promise<TopicPublisher> | undefined;
  return {
    async publish(topic, body) {
      publisher ??= import('../adapters/mns/topic-publisher.js').then((m) =>
        m.createMnsTopicPublisher({ endpoint, credentials }),
      );
      return (await publisher).publish(topic, body);
    },
  };
}

export function assembleDeps(
  settings: Settings,
  parts: {
    store: Store;
    jobQueue: Queue;
    deadLetterQueue: Queue;
    ecs: Ecs;
    clock: Clock;
    topics?: TopicPublisher;
  },
  options: { ids?: IdSource; log?: Logger },
): Deps {
  return {
    ...parts,
    notifier: createWebhookNotifier(),
    ids: options.ids ?? new RandomIds(),
    settings,
    log: options.log ?? createJsonLogger(),
  };
}

export async function openTablestore(settings: Settings, credentials: () => FcCredentials): Promise<Store> {
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

export async function openMnsQueues(
  settings: Settings,
  credentials: () => FcCredentials,
): Promise<{ jobQueue: Queue; deadLetterQueue: Queue }> {
  if (!settings.MNS_ENDPOINT) throw new Error('QUEUE=mns needs MNS_ENDPOINT');
  const { createMnsQueue } = await import('../adapters/mns/index.js');
  // Read per request: FC's STS credentials rotate.
  const connection = { endpoint: settings.MNS_ENDPOINT, credentials };
  const jobQueue = createMnsQueue({
    ...connection,
    name: settings.JOB_QUEUE,
    settings: jobQueueSettings(settings),
  });
  const deadLetterQueue = createMnsQueue({
    ...connection,
    name: settings.DEAD_LETTER_QUEUE,
    settings: DEAD_LETTER_QUEUE_SETTINGS,
  });
  return { jobQueue, deadLetterQueue };
}

/** The exports bucket, when one is configured (exports answer that none is, otherwise). */
export async function openOss(
  settings: Settings,
  clock: Clock,
  credentials: () => FcCredentials,
): Promise<ObjectStore | undefined> {
  const bucket = settings.OSS_BUCKET;
  if (!bucket) return undefined;
  // Opened on the first export call, not at cold start (the OSS SDK is the largest code a function has).
  return lazyObjectStore(async () => {
    const { createOssObjectStore } = await import('../adapters/oss/index.js');
    return createOssObjectStore({
      bucket,
      endpoint: settings.OSS_ENDPOINT ?? `https://oss-${settings.ECS_REGION}.aliyuncs.com`,
      cname: settings.OSS_CNAME === 'true',
      credentials,
      clock,
    });
  });
}

export async function openEcs(
  settings: Settings,
  clock: Clock,
  credentials: () => FcCredentials,
): Promise<Ecs> {
  const { createEcsAdapter } = await import('../adapters/ecs/index.js');
  return createEcsAdapter({
    endpoint: settings.ECS_ENDPOINT ?? `ecs.${settings.ECS_REGION}.aliyuncs.com`,
    regionId: settings.ECS_REGION,
    credentials,
    rateLimits: ecsRateLimits(settings),
    defaultRatePerSecond: settings.ECS_DEFAULT_RATE_PER_SECOND,
    maxAttempts: settings.ECS_MAX_ATTEMPTS,
    maxInFlight: settings.ECS_MAX_IN_FLIGHT,
    clock,
  });
}
