import type { Job, Retention } from '../../domain/model.js';
import type { EngineState } from '../jobs/job-kind.js';

/** What a copy job copies: the snapshots of one backup point into one region. */
export interface CopyJobParams {
  pointId: string;
  regionId: string;
  retention: Retention;
  timeZone: string;
}

export interface CopyJobState extends EngineState {
  /** Copy ids in the target region, in the order of the point's snapshots; '' = not copied yet. */
  copyIds?: string[];
  /** Copy rounds already given up on (a copy ECS reported failed); bounded by COPY_ATTEMPTS. */
  attempt?: number;
  pointId?: string;
}

/** A copy that ECS reports failed is deleted and made again, this many rounds in all. */
export const COPY_ATTEMPTS = 3;

export function copyParams(job: Job): CopyJobParams {
  return job.params as unknown as CopyJobParams;
}

export function copyState(job: Job): CopyJobState {
  return job.state as CopyJobState;
}

/** One copy job per backup and region: a retried record step finds the same job. */
export function copyJobId(backupJobId: string, regionId: string): string {
  return `${backupJobId}.copy.${regionId}`;
}
