import type { Job } from '../../domain/model.js';
import type { VerificationStatus } from '../../domain/verification.js';
import type { EngineState } from '../jobs/job-kind.js';

/** Tag on the temporary disks of a verification, besides the ownership tags: never a disk to back up. */
export const TAG_VERIFY = 'ecs-backup:verify';

/** A temporary disk of a verification attached to the instance it verifies: not one of its disks. */
export function isVerifyDisk(disk: { tags: readonly { key: string }[] }): boolean {
  return disk.tags.some((t) => t.key === TAG_VERIFY);
}

export interface VerifyParams {
  pointId: string;
  /** The plan's chosen helper; null = the backed-up instance itself. */
  helperInstanceId: string | null;
  /** Run `/tmp/verifyscript.sh` when the helper holds a valid one. */
  script: boolean;
}

/** One disk of the point, restored to a temporary disk. */
export interface VerifyDisk {
  sourceDiskId: string;
  snapshotId: string;
  category: string;
  diskId?: string;
  device?: string | null;
}

/**
 * A verify job's state. Every ECS write is preceded or followed by a persisted fact here: the disks
 * are requested (with ClientTokens from the job) before any is created, so a clean-up after a crash
 * asks again with the same tokens and finds them.
 */
export interface VerifyState extends EngineState {
  pointId?: string;
  zoneId?: string;
  helperId?: string;
  disks?: VerifyDisk[];
  disksRequested?: boolean;
  guestRequested?: boolean;
  invokeId?: string;
  verdict?: { status: VerificationStatus; reason: string | null };
  missingPolls?: number;
}

export function verifyState(job: Job): VerifyState {
  return job.state as VerifyState;
}

export function verifyParams(job: Job): VerifyParams {
  return job.params as unknown as VerifyParams;
}

/** One verification per point and counted backup: a recount after a crash finds the same job. */
export function verifyJobId(pointId: string): string {
  return `${pointId}.verify`;
}
