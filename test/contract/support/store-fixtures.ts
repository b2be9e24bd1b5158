import type { BackupPoint, ExportRecord, Job, Plan, ProtectedInstance } from '../../../lib/domain/model.js';
import type { Delivery, Subscription } from '../../../lib/domain/notifications.js';
import type {
  ExportCollection,
  IdempotencyRecord,
  JobCollection,
  PlanCollection,
  PointCollection,
  ProtectedInstanceCollection,
  Store,
  WriteResult,
} from '../../../lib/ports/store.js';
import { emptyRuleStatus, type ProtectionRule } from '../../../lib/domain/protection-rule.js';

/** 2026-03-01T00:00:00Z: every fixture time is an offset from it, so runs are reproducible. */
export const T0 = Date.UTC(2026, 2, 1);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

interface BulkCreate<T> {
  createMany(items: T[]): Promise<WriteResult<T>[]>;
}

/** What both adapters offer beyond the port: bulk create (seeding, importing from another store). */
export interface StoreUnderTest extends Store {
  plans: PlanCollection & BulkCreate<Plan>;
  jobs: JobCollection & BulkCreate<Job>;
  points: PointCollection & BulkCreate<BackupPoint>;
  instances: ProtectedInstanceCollection & BulkCreate<ProtectedInstance>;
  exports: ExportCollection & BulkCreate<ExportRecord>;
}

export interface StoreHarness {
  store: StoreUnderTest;
  /** Closes the store and opens a new one on the same data (a process restart). */
  reopen(): Promise<StoreUnderTest>;
  /** Closes whatever is open and removes temporary data. */
  cleanup(): Promise<void>;
}

export function aPlan(overrides: Partial<Plan> & { id: string }): Plan {
  return {
    name: `plan-${overrides.id}`,
    instanceId: 'i-abcd0001',
    disks: 'all',
    schedule: { startAt: '2026-03-01T02:00:00+08:00', every: { value: 1, unit: 'days' } },
    retention: { value: 7, unit: 'days' },
    longTerm: [],
    consistency: {
      applicationConsistent: false,
      fsFreeze: true,
      windowsWriters: true,
      timeoutSeconds: 30,
      onPreScriptFailure: 'continue',
      onAgentUnavailable: 'continue',
    },
    timeZone: 'Asia/Shanghai',
    keepLatest: true,
    state: 'ACTIVE',
    nextRunAt: T0 + HOUR,
    createdAt: T0,
    updatedAt: T0,
    version: 0,
    ...overrides,
  };
}

export function aJob(overrides: Partial<Job> & { id: string }): Job {
  return {
    type: 'backup',
    status: 'QUEUED',
    instanceId: 'i-abcd0001',
    planId: null,
    scheduledAt: null,
    step: 'start',
    progress: 0,
    cancelRequested: false,
    reason: null,
    params: {},
    state: {},
    errors: [],
    attempts: 0,
    createdAt: T0,
    updatedAt: T0,
    startedAt: null,
    finishedAt: null,
    version: 0,
    ...overrides,
  };
}

export function aPoint(overrides: Partial<BackupPoint> & { id: string }): BackupPoint {
  const completedAt = overrides.completedAt ?? T0;
  const expireAt = overrides.expireAt ?? completedAt + 7 * DAY;
  return {
    instanceId: 'i-abcd0001',
    planId: null,
    jobId: `job-${overrides.id}`,
    kind: 'group',
    snapshotGroupId: `ssg-${overrides.id}`,
    snapshots: [
      {
        diskId: 'd-sys0001',
        snapshotId: `s-${overrides.id}`,
        diskType: 'system',
        category: 'cloud_essd',
        sizeGiB: 40,
      },
    ],
    consistency: { requested: 'crash', achieved: 'crash', reason: null, freezeWindowMs: null },
    createdAt: completedAt - MINUTE,
    completedAt,
    expireAt,
    longTermUntil: null,
    longTermRule: null,
    effectiveExpireAt: overrides.effectiveExpireAt ?? expireAt,
    status: 'AVAILABLE',
    ours: true,
    inUseBy: [],
    lastError: null,
    version: 0,
    ...overrides,
  };
}

export function anInstance(
  overrides: Partial<ProtectedInstance> & { instanceId: string },
): ProtectedInstance {
  return { disks: 'all', planId: null, createdAt: T0, updatedAt: T0, version: 0, ...overrides };
}

export function anExport(overrides: Partial<ExportRecord> & { id: string }): ExportRecord {
  return {
    backupId: 'bp-0001',
    jobId: `job-${overrides.id}`,
    instanceId: 'i-abcd0001',
    diskId: 'd-data0001',
    paths: ['/etc/hosts'],
    status: 'CREATED',
    manifestKey: null,
    objectPrefix: null,
    fileCount: 0,
    bytes: 0,
    reason: null,
    createdAt: T0,
    updatedAt: T0,
    version: 0,
    ...overrides,
  };
}

export function anIdempotencyRecord(
  overrides: Partial<IdempotencyRecord> & { key: string },
): IdempotencyRecord {
  return {
    requestHash: 'sha256:aaaa',
    statusCode: 201,
    body: '{"id":"job-1"}',
    createdAt: T0,
    expireAt: T0 + DAY,
    ...overrides,
  };
}

export function ids<T extends { id: string }>(items: T[]): string[] {
  return items.map((i) => i.id);
}

/** Zero-padded so lexical and numeric order agree. */
export function seq(prefix: string, n: number): string {
  return `${prefix}${String(n).padStart(4, '0')}`;
}

export function expectOk<T>(result: WriteResult<T>): T {
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}`);
  return result.value;
}

export function aSubscription(overrides: Partial<Subscription> & { id: string }): Subscription {
  return {
    target: { kind: 'webhook', url: 'https://hooks.example.com/backup' },
    events: ['job.failed'],
    filter: {},
    secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0',
    createdAt: T0,
    updatedAt: T0,
    version: 1,
    ...overrides,
  };
}

export function aDelivery(overrides: Partial<Delivery> & { id: string; subscriptionId: string }): Delivery {
  return {
    eventId: 'evt-1',
    eventType: 'job.failed',
    event: {
      specversion: '1.0',
      id: 'evt-1',
      source: '/ecs-backup',
      type: 'com.ecs-backup.job.failed',
      time: new Date(T0).toISOString(),
      datacontenttype: 'application/json',
      data: { jobId: 'job-1' },
    },
    status: 'PENDING',
    attempts: [],
    nextAttemptAt: T0,
    deadReason: null,
    createdAt: T0,
    updatedAt: T0,
    version: 1,
    ...overrides,
  };
}

export function aRule(overrides: Partial<ProtectionRule> & { id: string }): ProtectionRule {
  return {
    name: 'prod-rule',
    priority: 10,
    match: { tags: { env: 'prod' } },
    disks: 'all',
    plan: {
      retention: { value: 7, unit: 'days' },
      longTerm: [],
      consistency: {
        applicationConsistent: false,
        fsFreeze: true,
        windowsWriters: true,
        timeoutSeconds: 30,
        onPreScriptFailure: 'continue',
        onAgentUnavailable: 'continue',
      },
      timeZone: 'UTC',
      keepLatest: true,
    },
    onUnmatch: 'keep',
    revision: 1,
    state: 'ACTIVE',
    status: emptyRuleStatus(),
    createdAt: T0,
    updatedAt: T0,
    version: 1,
    ...overrides,
  };
}
