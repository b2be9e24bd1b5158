/**
 * The stored shape of every entity. Pure data: no I/O, no behaviour.
 * Times are epoch milliseconds (UTC) unless a field name says otherwise.
 */

import type { CopyRule, PointCopy } from './copies.js';
import type { BackupLock, LockRequest } from './lock.js';
import type { PointVerification, VerifyCounter, VerifyRule } from './verification.js';

export type IntervalUnit = 'hours' | 'days' | 'weeks';
export type RetentionUnit = 'days' | 'weeks' | 'months' | 'years';
export type LongTermPeriod = 'week' | 'month' | 'year';
export type OsType = 'linux' | 'windows';

export interface Interval {
  value: number;
  unit: IntervalUnit;
}

export interface Schedule {
  /** ISO 8601 with seconds and an explicit offset, e.g. 2026-12-01T02:00:00+08:00. */
  startAt: string;
  every: Interval;
}

export interface Retention {
  value: number;
  unit: RetentionUnit;
}

export interface LongTermRule {
  period: LongTermPeriod;
  keep: Retention;
}

export type PreScriptFailureMode = 'continue' | 'fail';
export type AgentFailureMode = 'continue' | 'fail';

export interface ConsistencyOptions {
  applicationConsistent: boolean;
  fsFreeze: boolean;
  windowsWriters: boolean;
  timeoutSeconds: number;
  onPreScriptFailure: PreScriptFailureMode;
  onAgentUnavailable: AgentFailureMode;
}

/** `all` = every disk attached when a backup starts (disks attached later are included). */
export type DiskSelection = 'all' | string[];

export type PlanState = 'ACTIVE' | 'SUSPENDED';

export interface Plan {
  id: string;
  name: string;
  instanceId: string;
  disks: DiskSelection;
  /** Absent = no schedule: backups only on demand. */
  schedule?: Schedule;
  retention: Retention;
  longTerm: LongTermRule[];
  consistency: ConsistencyOptions;
  /** IANA zone for calendar retention and long-term periods. */
  timeZone: string;
  /** Retention never deletes the newest good backup of the instance while true. */
  keepLatest: boolean;
  state: PlanState;
  /** Every backup of the plan is locked (lib/domain/lock.ts); absent = not locked. */
  lock?: LockRequest;
  /** Regions each backup is copied to, with their own retention (lib/domain/copies.ts). */
  copies?: CopyRule[];
  /** Restore tests of the plan's backups (lib/domain/verification.ts); absent = none. */
  verify?: VerifyRule;
  /** Complete backups counted toward `verify.every`, kept with the last one counted so a retry counts it once. */
  verifyCounter?: VerifyCounter;
  /** Next occurrence not yet handed to the queue; null when suspended or unscheduled. */
  nextRunAt: number | null;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export interface ProtectedInstance {
  instanceId: string;
  disks: DiskSelection;
  /** The plan bound to the instance (one at a time); null = protected with on-demand backups only. */
  planId: string | null;
  createdAt: number;
  updatedAt: number;
  version: number;
  /** The protection rule that protects the instance (lib/domain/protection-rule.ts); absent = by hand. */
  ruleId?: string;
  /** The rule's `revision` the plan was last brought to. */
  ruleRevision?: number;
}

export type JobType = 'backup' | 'restore' | 'mount' | 'unmount' | 'export' | 'clone' | 'copy' | 'verify';

export type JobStatus =
  | 'CREATED'
  | 'QUEUED'
  | 'RUNNING'
  | 'CANCELING'
  | 'COMPLETE'
  | 'PARTIAL_COMPLETE'
  | 'FAILED'
  | 'CANCELED'
  | 'SKIPPED'
  | 'EXPIRED';

export type ConsistencyLevel = 'application' | 'filesystem' | 'crash';

export interface JobError {
  code: string;
  message: string;
  at: number;
}

export interface Job {
  id: string;
  type: JobType;
  status: JobStatus;
  instanceId: string;
  planId: string | null;
  /** For scheduled jobs: the occurrence this job stands for. */
  scheduledAt: number | null;
  /** Free-form step name of the job's state machine, e.g. `resolve-disks`, `snapshot`, `poll`. */
  step: string;
  progress: number;
  cancelRequested: boolean;
  /** Why the job ended as it did (SKIPPED, FAILED, PARTIAL_COMPLETE, lower consistency). */
  reason: string | null;
  /** Type-specific input (what to back up, restore, mount, export). */
  params: Record<string, unknown>;
  /** Type-specific output and intermediate state (snapshot group id, disk ids, ...). */
  state: Record<string, unknown>;
  errors: JobError[];
  attempts: number;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  version: number;
}

/**
 * `COPIES_ONLY`: the backup's own snapshots are deleted (expired or deleted on request) but a copy in
 * another region is still present; it can be restored there until its own expiry, then the point is
 * DELETED (lib/domain/copies.ts).
 */
export type BackupPointStatus =
  'CREATING' | 'AVAILABLE' | 'DELETING' | 'DELETED' | 'DELETE_FAILED' | 'COPIES_ONLY';

export interface PointSnapshot {
  diskId: string;
  snapshotId: string;
  diskType: 'system' | 'data';
  category: string;
  sizeGiB: number;
  device?: string;
}

export interface PointConsistency {
  requested: ConsistencyLevel;
  achieved: ConsistencyLevel;
  reason: string | null;
  freezeWindowMs: number | null;
}

export interface BackupPoint {
  id: string;
  instanceId: string;
  planId: string | null;
  jobId: string;
  /** `group` = one crash-consistent snapshot group; `per-disk` = independent snapshots. */
  kind: 'group' | 'per-disk';
  snapshotGroupId: string | null;
  snapshots: PointSnapshot[];
  consistency: PointConsistency;
  createdAt: number;
  completedAt: number;
  expireAt: number;
  /** Set when a long-term rule keeps this point longer. */
  longTermUntil: number | null;
  longTermRule: LongTermPeriod | null;
  /** max(expireAt, longTermUntil): what retention compares with now. */
  effectiveExpireAt: number;
  status: BackupPointStatus;
  /** True when every snapshot carries our managed-by tag. Retention never deletes a point that is not ours. */
  ours: boolean;
  /** Jobs (mount, restore, export) that use the point; deletion is refused while non-empty. */
  inUseBy: string[];
  lastError: string | null;
  /** Set once, never removed (lib/domain/lock.ts); absent on points taken without a lock. */
  lock?: BackupLock;
  /** The instance as it was when backed up: a clone's defaults. Absent on points taken before it was kept. */
  source?: PointSource;
  /** Copies in other regions (lib/domain/copies.ts); absent when the plan asked for none. */
  copies?: PointCopy[];
  /** The latest restore test of the point (lib/domain/verification.ts); absent = never tested. */
  verification?: PointVerification;
  version: number;
}

/** What a clone of the whole instance is launched with unless the request says otherwise. */
export interface PointSource {
  instanceName: string;
  zoneId: string;
  osType: OsType;
  instanceType: string | null;
  vSwitchId: string | null;
  securityGroupIds: string[];
  tags: { key: string; value: string }[];
}

export type ExportStatus = 'CREATED' | 'RUNNING' | 'COMPLETE' | 'FAILED' | 'CANCELED';

export interface ExportFileEntry {
  path: string;
  size: number;
  type: 'file' | 'dir' | 'symlink';
  mtime: number;
}

export interface ExportRecord {
  id: string;
  backupId: string;
  jobId: string;
  instanceId: string;
  diskId: string;
  /** Paths requested for export; empty = the manifest only. */
  paths: string[];
  status: ExportStatus;
  /** Object-store key of the manifest (list of files on the disk). */
  manifestKey: string | null;
  /** Object-store prefix where exported files live. */
  objectPrefix: string | null;
  fileCount: number;
  bytes: number;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
  version: number;
}

/**
 * What a backup job was asked to do, copied from the plan (or the protect-now request) when the job is
 * created, so a later plan change or deletion does not alter a job already under way.
 */
export interface BackupJobParams {
  disks: DiskSelection;
  retention: Retention;
  longTerm: LongTermRule[];
  consistency: ConsistencyOptions;
  timeZone: string;
  keepLatest: boolean;
  trigger: 'schedule' | 'manual';
  lock?: LockRequest;
  /** The instance when the job was made, recorded on its point (absent when it could not be read). */
  source?: PointSource;
  copies?: CopyRule[];
}
