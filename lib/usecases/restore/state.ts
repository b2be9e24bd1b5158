import type { Job } from '../../domain/model.js';
import type { EngineState } from '../jobs/job-kind.js';

/** HBR's restore types for ECS instance backup, minus "clone the whole instance". */
export const RESTORE_MODES = ['rollback-disk', 'rollback-instance', 'clone-disk'] as const;
export type RestoreMode = (typeof RESTORE_MODES)[number];

export const DEFAULT_MOUNT_TTL_HOURS = 24;
/** Seven days: the longest an operator may hold a point (and pay for a disk) without renewing it. */
export const MAX_MOUNT_TTL_HOURS = 7 * 24;

export interface RestoreParams {
  backupId: string;
  mode: RestoreMode;
  /** The disk of the point to roll back or clone; null for rollback-instance. */
  diskId: string | null;
  /** Clone only: the instance that receives the new disk. */
  targetInstanceId: string | null;
  /** Rollback only: the job may stop a running instance and starts it again after. */
  stopInstance: boolean;
  /** Clone from the backup's copy in this region (lib/usecases/restore/from-copy.ts); absent = the backup itself. */
  regionId?: string;
}

export interface MountParams {
  backupId: string;
  diskId: string;
  targetInstanceId: string;
  ttlHours: number;
}

export interface UnmountParams {
  mountJobId: string;
  trigger: 'api' | 'ttl';
}

/** A disk of the point the job works on, with the snapshot it comes back from. */
export interface RecoveryTarget {
  diskId: string;
  snapshotId: string;
  category: string;
}

/**
 * The persisted state of restore, mount and unmount jobs (`job.state`). Every ECS write is preceded
 * or followed by a persisted fact here, so a worker that dies anywhere resumes without repeating a
 * write that is not idempotent and without losing track of what it created.
 */
export interface RecoveryState extends EngineState {
  /** The backup point used; the job id is in its `inUseBy` from the claim to the end. */
  pointId?: string;
  targets?: RecoveryTarget[];
  /** Zone of the instance that receives a created disk. */
  zoneId?: string;
  /** Rollback: the instance was running and this job stopped it, so it starts it again. */
  stoppedByUs?: boolean;
  /** Rollback: ResetDisk has been sent for these disks (a second send would be harmless, but counted once). */
  resetIssued?: string[];
  /** Clone and mount: CreateDisk was sent (with the job's ClientToken), so a disk may exist before its id is known. */
  diskRequested?: boolean;
  /** The disk created by this job (clone, mount) or removed by it (unmount). */
  diskId?: string;
  /** The job that created `diskId`; its tag must be on the disk before anything deletes it. */
  diskOwnerJobId?: string;
  device?: string | null;
  /** Mount: when the disk was attached and when it is unmounted automatically. */
  mountedAt?: number;
  expiresAt?: number;
  /** Unmount: the mount it ends. */
  mountJobId?: string;
  /** The instance this job stopped has been started again (by the job or its clean-up). */
  instanceRestarted?: boolean;
  /** Reads that did not find the disk the job created (ECS lists a new disk shortly after). */
  missingPolls?: number;
}

export function recoveryState(job: Job): RecoveryState {
  return job.state as RecoveryState;
}

export function restoreParams(job: Job): RestoreParams {
  return job.params as unknown as RestoreParams;
}

export function mountParams(job: Job): MountParams {
  return job.params as unknown as MountParams;
}

export function unmountParams(job: Job): UnmountParams {
  return job.params as unknown as UnmountParams;
}

/** The unmount job of a mount: one id per mount, so the API and the TTL sweep collapse onto one job. */
export function unmountJobId(mountJobId: string, retry = 0): string {
  return retry === 0 ? `unmount-${mountJobId}` : `unmount-${mountJobId}-r${retry}`;
}
