import type { Job } from '../../domain/model.js';
import type { CreateSnapshotGroupRequest, EcsSnapshotGroup } from '../../ports/ecs.js';
import type { StepContext } from '../jobs/job-kind.js';
import { ownershipTags, snapshotName, TAG_JOB } from './ownership.js';
import type { ResolvedDisk } from './state.js';

export function groupRequest(job: Job, disks: ResolvedDisk[]): CreateSnapshotGroupRequest {
  return {
    instanceId: job.instanceId,
    diskIds: disks.map((d) => d.diskId),
    name: snapshotName(job.id),
    description: `ecs-backup ${job.planId ? `plan ${job.planId}` : 'on-demand'} job ${job.id}`,
    tags: ownershipTags(job),
    // The job id is the ClientToken: a retried or duplicated create returns the same group.
    clientToken: job.id,
  };
}

/** The group this job created, found by its tag: what a crash before recording its id leaves. */
export async function findOwnGroup(ctx: StepContext, job: Job): Promise<EcsSnapshotGroup | undefined> {
  const found = await ctx.deps.ecs.findSnapshotGroupsByTag({ key: TAG_JOB, value: job.id }, job.instanceId);
  return found[0];
}
