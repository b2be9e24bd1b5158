import type { ConsistencyDecision } from '../../domain/consistency.js';
import type { BackupJobParams, ConsistencyLevel, Job, OsType } from '../../domain/model.js';
import type { EngineState } from '../jobs/job-kind.js';

/** A disk as the job saw it when it resolved the selection. */
export interface ResolvedDisk {
  diskId: string;
  category: string;
  sizeGiB: number;
  type: 'system' | 'data';
  device: string | null;
}

/** What the guest script reported (its `ECSB` result lines). */
export interface GuestOutcome {
  achieved: ConsistencyLevel;
  reason: string | null;
  freezeMs: number | null;
  preExit: number | null;
  postExit: number | null;
}

/**
 * A backup job's intermediate state, persisted in `job.state` after every step so any worker can
 * pick the job up where the last one stopped.
 */
export interface BackupJobState extends EngineState {
  disks?: ResolvedDisk[];
  /** Listed disks that are no longer attached: the job ends PARTIAL_COMPLETE. */
  missingDisks?: string[];
  os?: OsType;
  decision?: ConsistencyDecision;
  snapshotGroupId?: string;
  /** The group's member snapshots, learned at its first poll: later polls read them in batches of 100. */
  groupSnapshotIds?: string[];
  /** Whether the group carried our tags at that poll (tags of a group are set when it is created). */
  groupOurs?: boolean;
  /** Per-disk snapshots: disk id -> snapshot id. */
  snapshots?: Record<string, string>;
  /** Per-disk snapshots that could not be taken: disk id -> reason. */
  failedDisks?: Record<string, string>;
  invokeId?: string;
  /** A guest script was sent before a crash kept its id from the record: wait for its group, never send another. */
  guestLost?: boolean;
  guestTimeoutSeconds?: number;
  guest?: GuestOutcome;
  /** Polls that did not find a resource ECS had just returned (eventual consistency). */
  missingPolls?: number;
  pointId?: string;
}

export function backupState(job: Job): BackupJobState {
  return job.state as BackupJobState;
}

export function backupParams(job: Job): BackupJobParams {
  return job.params as unknown as BackupJobParams;
}
