import type { Job } from '../../domain/model.js';
import type { Tag } from '../../ports/ecs.js';
import type { EngineState } from '../jobs/job-kind.js';

/**
 * A clone of the whole instance from a backup (HBR's third restore type): an image from the
 * point's snapshots, an instance launched from it, the image deleted after. There is no password
 * anywhere: log-in is by key pair, or the owner resets it on the new instance.
 */
export interface CloneParams {
  backupId: string;
  instanceType: string;
  vSwitchId: string;
  securityGroupIds: string[];
  instanceName: string | null;
  hostName: string | null;
  keyPairName: string | null;
  tags: Tag[];
  keepImage: boolean;
  /** Clone from the backup's copy in this region, and launch there; absent: the backup's own region. */
  regionId?: string;
}

/**
 * The persisted state of a clone job. Every ECS write is preceded by its intent here, so a worker
 * that dies anywhere finds what it made (by ClientToken or by the job's tag) instead of making more.
 */
export interface CloneState extends EngineState {
  /** The backup point; the job id is in its `inUseBy` from the claim to the end. */
  pointId?: string;
  zoneId?: string;
  /** CreateImage was sent (with the job's ClientToken). */
  imageRequested?: boolean;
  imageId?: string;
  /** RunInstances was sent (with the job's ClientToken). */
  runRequested?: boolean;
  /** The new instance: the job's result once `launched` is set. */
  newInstanceId?: string;
  /** The new instance reached Running and is the result: clean-up and the orphan sweep leave it. */
  launched?: boolean;
  /** Reads that did not find what the job created (ECS lists a new resource shortly after). */
  missingPolls?: number;
}

export function cloneState(job: Job): CloneState {
  return job.state as CloneState;
}

export function cloneParams(job: Job): CloneParams {
  return job.params as unknown as CloneParams;
}
