import type { Job } from '../../domain/model.js';
import { EcsError } from '../../ports/ecs.js';
import { TAG_JOB } from '../backup/ownership.js';
import type { Release, Resource, StepContext, StepResult } from '../jobs/job-kind.js';
import { finish, record } from '../jobs/job-writes.js';
import { readDisk, sendCreateDisk } from './disk-steps.js';
import { releasePoint } from './point-use.js';
import { recoveryState, type RecoveryState } from './state.js';

/**
 * One pass of detach-then-delete for a disk a job created. Never deletes a disk without the tag of
 * the job that created it: ids are reused by nobody, but a disk swapped in by hand is not ours.
 */
export async function removeDisk(ctx: StepContext, diskId: string, ownerJobId: string): Promise<Release> {
  const disk = await readDisk(ctx, diskId);
  if (!disk) return { state: 'released', note: `disk ${diskId} deleted` };
  if (!disk.tags.some((t) => t.key === TAG_JOB && t.value === ownerJobId)) {
    return { state: 'left', note: `disk ${diskId} does not carry the tag of job ${ownerJobId}; left alone` };
  }
  if (disk.status === 'In_use' && disk.instanceId) {
    await ctx.deps.ecs.detachDisk(diskId, disk.instanceId);
    return { state: 'wait' };
  }
  if (disk.status !== 'Available') return { state: 'wait' };
  await ctx.deps.ecs.deleteDisk(diskId);
  return (await readDisk(ctx, diskId))
    ? { state: 'wait' }
    : { state: 'released', note: `disk ${diskId} deleted` };
}

/** A disk may exist whose id was never stored (a crash right after CreateDisk): ask again with the same token. */
async function createdDiskId(ctx: StepContext, job: Job): Promise<string | null> {
  const st = recoveryState(job);
  if (st.diskId) return st.diskId;
  if (!st.diskRequested || !st.targets?.[0]) return null;
  try {
    return await sendCreateDisk(ctx, job);
  } catch (err) {
    // Refused again for the reason it was refused the first time: nothing was created.
    if (err instanceof EcsError && !err.retryable) return null;
    throw err;
  }
}

/** The disk a clone or mount created: detached and deleted. */
export const createdDisk: Resource = {
  name: 'disk',
  async release(ctx, job) {
    const st = recoveryState(job);
    if (!st.diskRequested && !st.diskId) return { state: 'released' };
    const diskId = await createdDiskId(ctx, job);
    if (!diskId) return { state: 'released' };
    if (!st.diskId) await record<RecoveryState>(ctx, job, { diskId, diskOwnerJobId: job.id });
    return removeDisk(ctx, diskId, job.id);
  },
  leftover(job) {
    const { diskId } = recoveryState(job);
    return diskId ? `delete disk ${diskId} by hand` : null;
  },
};

/** An instance a rollback stopped: started again. */
export const stoppedInstance: Resource = {
  name: 'instance',
  async release(ctx, job) {
    const st = recoveryState(job);
    if (!st.stoppedByUs || st.instanceRestarted) return { state: 'released' };
    const [instance] = await ctx.deps.ecs.describeInstances([job.instanceId]);
    if (instance?.status === 'Stopping') return { state: 'wait' };
    if (instance?.status === 'Stopped') await ctx.deps.ecs.startInstance(job.instanceId);
    return {
      state: 'released',
      note: instance ? `instance ${job.instanceId} started again` : `instance ${job.instanceId} is gone`,
    };
  },
  leftover: (job) => `start instance ${job.instanceId} by hand`,
};

/** The job's claim on the backup point (`inUseBy`). */
export const pointClaim: Resource = {
  name: 'point',
  async release(ctx, job) {
    const { pointId } = recoveryState(job);
    if (pointId) await releasePoint(ctx.deps, pointId, job.id);
    return { state: 'released' };
  },
};

/**
 * A recovery job completes: the claim of `release` (this job, or the mount an unmount ends) is
 * dropped first, so a crash between the two leaves a job that runs this step again rather than a
 * finished job holding the point forever.
 */
export async function completeRecovery(
  ctx: StepContext,
  job: Job,
  reason: string,
  options: { release: string | null; patch?: Partial<RecoveryState>; progress?: number },
): Promise<StepResult> {
  const { pointId } = recoveryState(job);
  if (options.release !== null && pointId) await releasePoint(ctx.deps, pointId, options.release);
  return finish(ctx, job, 'COMPLETE', reason, {
    state: { ...job.state, ...(options.patch ?? {}) },
    ...(options.progress === undefined ? {} : { progress: options.progress }),
  });
}
