import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFunctions } from '../../infra/build.js';
import { provisionQueues } from '../../infra/queues.js';
import { createMnsQueue } from '../../lib/adapters/mns/index.js';
import { provisionTables, TablestoreClient } from '../../lib/adapters/tablestore/index.js';
import type { Queue } from '../../lib/ports/queue.js';
import type { FcCredentials, FcHttpResponse } from '../../lib/runtime/fc.js';
import { startEcsEmulator, type EcsEmulator, type EcsEmulatorOptions } from '../ecs-emulator/index.js';
import { startHttpBridge } from '../http-bridge.js';
import { startMnsEmulator, type MnsEmulator } from '../mns-emulator/index.js';
import { startOssEmulator, type OssEmulator } from '../oss-emulator/index.js';
import { KeyRing } from '../sts-keys.js';
import { startTablestoreEmulator, type TablestoreEmulator } from '../tablestore-emulator/index.js';
import { timerEvent } from '../runtime/timers.js';
import { startMnsTrigger } from './eventbridge.js';
import { startFcHost, type FcHost } from './fc-host.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_BUNDLES_DIR = path.join(REPO, 'dist', 'functions');
const TABLESTORE_INSTANCE = 'ecs-backup';

export interface CloudModeOptions {
  dataDir: string;
  /** Where the built bundles are; built first when `build` is true or they are missing. */
  bundlesDir?: string;
  build?: boolean;
  apiToken?: string;
  port?: number;
  /** Function settings on top of the cloud ones (STORE=tablestore, QUEUE=mns, endpoints). */
  settings?: Record<string, string>;
  emulator?: Partial<EcsEmulatorOptions>;
  /** Scheduler and retention timers; off in tests that tick by hand. */
  timers?: { schedulerEveryMs: number; retentionEveryMs: number } | false;
  /** The MNS trigger's retry waits (EventBridge: 10-20 s). */
  retryDelayMs?: (attempt: number) => number;
  /** Tests: an invocation whose event contains this text fails as a killed function instance's would. */
  crashOn?: string;
  echo?: (line: string) => void;
  onError?: (err: unknown) => void;
}

export interface CloudMode {
  apiUrl: string;
  apiToken: string;
  host: FcHost;
  ecs: EcsEmulator;
  tablestore: TablestoreEmulator;
  mns: MnsEmulator;
  /** The exports bucket. */
  oss: OssEmulator;
  /** The job queue and dead-letter queue as an operator's tools see them (not the functions' access). */
  jobQueue: Queue;
  deadLetterQueue: Queue;
  /** The STS set invocations carry now. */
  credentials(): FcCredentials;
  /** Issues a new STS set for the function role; invocations carry it from now on, the old one expires. */
  rotateCredentials(): Promise<{ previous: FcCredentials; current: FcCredentials }>;
  /** The function settings every bundle runs with. */
  env: Record<string, string>;
  tickScheduler(): Promise<unknown>;
  runRetention(): Promise<unknown>;
  triggerStats(): { pushed: number; failedPushes: number; deadLettered: number };
  close(): Promise<void>;
}

function newStsSet(): Required<FcCredentials> {
  return {
    accessKeyId: `STS.${randomBytes(8).toString('hex')}`,
    accessKeySecret: randomBytes(16).toString('hex'),
    securityToken: randomBytes(24).toString('base64'),
  };
}

/**
 * The deployed shape on one machine: the Tablestore, MNS and ECS emulators, the built function
 * bundles in a host process that plays FC's runtime, the triggers as configured in
 * `serverless.yml` (FC HTTP events from an HTTP server, timer events, the EventBridge MNS trigger
 * with its retries and dead-letter queue), and the function role's STS credentials, passed in every
 * invocation's context and rotated on request.
 */
export async function startCloudMode(options: CloudModeOptions): Promise<CloudMode> {
  const bundlesDir = options.bundlesDir ?? DEFAULT_BUNDLES_DIR;
  if (options.build || !existsSync(path.join(bundlesDir, 'worker', 'index.mjs')))
    await buildFunctions(bundlesDir);
  const admin = {
    accessKeyId: `admin-${randomBytes(4).toString('hex')}`,
    accessKeySecret: randomBytes(16).toString('hex'),
  };
  let current = newStsSet();
  const ring = new KeyRing([current]);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const ecs = await startEcsEmulator({
      dataDir: path.join(options.dataDir, 'ecs-emulator'),
      port: 0,
      ...admin,
      keys: ring,
      ...options.emulator,
    });
    cleanups.push(() => ecs.close());
    const tablestore = await startTablestoreEmulator({
      ...admin,
      instanceName: TABLESTORE_INSTANCE,
      keys: ring,
    });
    cleanups.push(() => tablestore.close());
    const mns = await startMnsEmulator({ ...admin, keys: ring });
    cleanups.push(() => mns.close());
    const oss = await startOssEmulator({ ...admin, keys: ring });
    cleanups.push(() => oss.close());
    await provisionTables(
      new TablestoreClient({ endpoint: tablestore.endpoint, instanceName: TABLESTORE_INSTANCE, ...admin }),
      { dryRun: false },
    );
    await provisionQueues({ endpoint: mns.endpoint, ...admin, dryRun: false });

    const apiToken = options.apiToken ?? randomBytes(24).toString('base64url');
    const env: Record<string, string> = {
      STORE: 'tablestore',
      QUEUE: 'mns',
      TABLESTORE_ENDPOINT: tablestore.endpoint,
      TABLESTORE_INSTANCE,
      MNS_ENDPOINT: mns.endpoint,
      OSS_BUCKET: oss.bucket,
      OSS_ENDPOINT: oss.endpoint,
      OSS_CNAME: 'true',
      ECS_ENDPOINT: ecs.url,
      ECS_REGION: ecs.regionId,
      API_TOKEN: apiToken,
      ...options.settings,
    };
    const host = await startFcHost({
      bundlesDir,
      env,
      ...(options.echo ? { echo: options.echo } : {}),
      ...(options.crashOn ? { crashOn: options.crashOn } : {}),
    });
    cleanups.push(() => host.close());
    const context = () => ({ credentials: current });

    const bridge = await startHttpBridge({
      handler: (event) => host.invoke<FcHttpResponse>('api', event.toString('utf8'), context()),
      port: options.port ?? 0,
    });
    cleanups.push(() => bridge.close());

    const queueAccess = { endpoint: mns.endpoint, ...admin };
    const jobQueue = createMnsQueue({
      ...queueAccess,
      name: env.JOB_QUEUE ?? 'ecs-backup-jobs',
      settings: { visibilityTimeoutSeconds: 300, maxReceiveCount: 1000 },
    });
    const deadLetterQueue = createMnsQueue({
      ...queueAccess,
      name: env.DEAD_LETTER_QUEUE ?? 'ecs-backup-jobs-dlq',
      settings: { visibilityTimeoutSeconds: 60, maxReceiveCount: 1000 },
    });
    const trigger = startMnsTrigger({
      source: jobQueue,
      deadLetter: deadLetterQueue,
      queueName: env.JOB_QUEUE ?? 'ecs-backup-jobs',
      batchSize: 10,
      invoke: (events) => host.invoke('worker', events, context()),
      ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
    cleanups.push(() => trigger.stop());

    const tickScheduler = () =>
      host.invoke('scheduler', timerEvent('scheduler-every-minute', new Date()), context());
    const runRetention = () =>
      host.invoke('retention', timerEvent('retention-hourly', new Date()), context());
    if (options.timers) {
      const report = (err: unknown) => options.onError?.(err);
      const scheduler = setInterval(
        () => void tickScheduler().catch(report),
        options.timers.schedulerEveryMs,
      );
      const retention = setInterval(() => void runRetention().catch(report), options.timers.retentionEveryMs);
      cleanups.push(async () => {
        clearInterval(scheduler);
        clearInterval(retention);
      });
    }

    return {
      apiUrl: bridge.url,
      apiToken,
      host,
      ecs,
      tablestore,
      mns,
      oss,
      jobQueue,
      deadLetterQueue,
      env,
      credentials: () => current,
      async rotateCredentials() {
        const previous = current;
        const next = newStsSet();
        ring.issue(next);
        current = next;
        ring.expire(previous.accessKeyId);
        return { previous, current: next };
      },
      tickScheduler,
      runRetention,
      triggerStats: () => ({ ...trigger.stats }),
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
