import type { Job } from '../../domain/model.js';
import { EcsError, type EcsDisk, type Tag } from '../../ports/ecs.js';
import { ownershipTags, partToken, snapshotName, TAG_JOB } from '../backup/ownership.js';
import {
  end,
  next,
  noted,
  pollSeconds,
  record,
  stepTimedOut,
  waitHere,
  windDown,
  type StepContext,
  type StepResult,
} from './kit.js';
import { recoveryState, type RecoveryTarget } from './state.js';

/** Tag naming the backup a disk was created from, besides the ownership tags every resource of ours carries. */
export const TAG_BACKUP = 'ecs-backup:backup';

/** A new disk is listed shortly after CreateDisk answers; this many empty reads mean it is really gone. */
const MAX_MISSING_READS = 5;

export async function readDisk(ctx: StepContext, diskId: string): Promise<EcsDisk | undefined> {
  const [disk] = await ctx.deps.ecs.describeDisks([diskId]);
  return disk;
}

function diskTags(job: Job, pointId: string): Tag[] {
  return [...ownershipTags(job), { key: TAG_BACKUP, value: pointId }];
}

/**
 * CreateDisk from the point's snapshot in the receiving instance's zone. The ClientToken is derived
 * from the job, so a second send after a crash returns the same disk instead of making another.
 */
async function sendCreateDisk(ctx: StepContext, job: Job): Promise<string> {
  const st = recoveryState(job);
  const target = st.targets?.[0] as RecoveryTarget;
  return ctx.deps.ecs.createDisk({
    zoneId: st.zoneId ?? '',
    snapshotId: target.snapshotId,
    category: target.category,
    name: snapshotName(job.id, '-disk'),
    tags: diskTags(job, st.pointId ?? 'none'),
    clientToken: partToken(job.id, `disk\n${target.snapshotId}`),
  });
}

export async function createDiskStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = recoveryState(job);
  if (st.diskId) return next(ctx, job, 'wait-disk', {}, 40);
  // The intent goes first: from here a clean-up must look for a disk even if its id was never stored.
  const current = st.diskRequested ? job : await record(ctx, job, { diskRequested: true });
  const diskId = await sendCreateDisk(ctx, current);
  return next(ctx, current, 'wait-disk', { diskId, diskOwnerJobId: job.id }, 40);
}

async function missing(ctx: StepContext, job: Job, what: string): Promise<StepResult> {
  const reads = (recoveryState(job).retries ?? 0) + 1;
  if (reads > MAX_MISSING_READS) return windDown(ctx, job, 'FAILED', `${what} vanished from ECS`);
  return waitHere(ctx, job, pollSeconds(ctx), { retries: reads });
}

function timedOut(ctx: StepContext, job: Job, what: string): Promise<StepResult> {
  const minutes = Math.round(ctx.deps.settings.START_WINDOW_SECONDS / 60);
  return windDown(
    ctx,
    job,
    'FAILED',
    `${what} for more than ${minutes} minutes; ECS may be degraded: retry later`,
  );
}

export async function waitDiskStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const diskId = recoveryState(job).diskId ?? '';
  const disk = await readDisk(ctx, diskId);
  if (!disk) return missing(ctx, job, `the new disk ${diskId}`);
  if (disk.status === 'Available') return next(ctx, job, 'attach', {}, 55);
  if (disk.status !== 'Creating') {
    return windDown(ctx, job, 'FAILED', `the new disk ${diskId} is ${disk.status} instead of Available`);
  }
  if (stepTimedOut(ctx, job)) return timedOut(ctx, job, `disk ${diskId} stayed Creating`);
  return waitHere(ctx, job, pollSeconds(ctx));
}

/** AttachDisk takes no ClientToken: the disk's state tells whether an earlier send got through. */
export async function attachStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const diskId = recoveryState(job).diskId ?? '';
  const disk = await readDisk(ctx, diskId);
  if (!disk) return missing(ctx, job, `the new disk ${diskId}`);
  if (disk.status === 'Attaching' || (disk.status === 'In_use' && disk.instanceId === job.instanceId)) {
    return next(ctx, job, 'wait-attach', {}, 70);
  }
  if (disk.status !== 'Available') {
    if (stepTimedOut(ctx, job)) return timedOut(ctx, job, `disk ${diskId} stayed ${disk.status}`);
    return waitHere(ctx, job, pollSeconds(ctx));
  }
  await ctx.deps.ecs.attachDisk(diskId, job.instanceId);
  return next(ctx, job, 'wait-attach', {}, 70);
}

export async function waitAttachStep(
  ctx: StepContext,
  job: Job,
  attached: (job: Job, device: string | null) => Promise<StepResult>,
): Promise<StepResult> {
  const diskId = recoveryState(job).diskId ?? '';
  const disk = await readDisk(ctx, diskId);
  if (!disk) return missing(ctx, job, `the new disk ${diskId}`);
  if (disk.status === 'In_use' && disk.instanceId === job.instanceId) return attached(job, disk.device);
  if (disk.status === 'Available') return next(ctx, job, 'attach');
  if (stepTimedOut(ctx, job)) return timedOut(ctx, job, `disk ${diskId} stayed ${disk.status}`);
  return waitHere(ctx, job, pollSeconds(ctx));
}

export type Removal =
  { state: 'removed'; note: string } | { state: 'wait' } | { state: 'refused'; why: string };

/**
 * One pass of detach-then-delete for a disk a job created. Never deletes a disk without the tag of
 * the job that created it: ids are reused by nobody, but a disk swapped in by hand is not ours.
 */
export async function removeDisk(ctx: StepContext, diskId: string, ownerJobId: string): Promise<Removal> {
  const { ecs } = ctx.deps;
  const disk = await readDisk(ctx, diskId);
  if (!disk) return { state: 'removed', note: `disk ${diskId} deleted` };
  if (!disk.tags.some((t) => t.key === TAG_JOB && t.value === ownerJobId)) {
    return {
      state: 'refused',
      why: `disk ${diskId} does not carry the tag of job ${ownerJobId}; left alone`,
    };
  }
  if (disk.status === 'In_use' && disk.instanceId) {
    await ecs.detachDisk(diskId, disk.instanceId);
    return { state: 'wait' };
  }
  if (disk.status !== 'Available') return { state: 'wait' };
  await ecs.deleteDisk(diskId);
  return (await readDisk(ctx, diskId))
    ? { state: 'wait' }
    : { state: 'removed', note: `disk ${diskId} deleted` };
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

/**
 * A failed or canceled restore or mount undoes what it did: the disk it created is detached and
 * deleted, an instance it stopped is started again; then the point is released and the job ends
 * with the status and reason it was given when it began winding down.
 */
export async function cleanupStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = recoveryState(job);
  const ending = st.ending ?? { status: 'FAILED' as const, reason: 'clean-up without a recorded cause' };
  let current = job;
  if (!st.diskRemoved && (st.diskRequested || st.diskId)) {
    const diskId = await createdDiskId(ctx, current);
    if (diskId) {
      if (!st.diskId) current = await record(ctx, current, { diskId, diskOwnerJobId: job.id });
      const removal = await removeDisk(ctx, diskId, job.id);
      if (removal.state === 'wait') {
        if (stepTimedOut(ctx, current)) {
          return giveUpCleanup(ctx, current, `disk ${diskId} could not be detached and deleted in time`);
        }
        return waitHere(ctx, current, pollSeconds(ctx));
      }
      const text = removal.state === 'removed' ? removal.note : removal.why;
      current = await record(ctx, current, { diskRemoved: true, notes: noted(current, text) });
    } else {
      current = await record(ctx, current, { diskRemoved: true });
    }
  }
  const after = recoveryState(current);
  if (after.stoppedByUs && !after.instanceRestarted) {
    const [instance] = await ctx.deps.ecs.describeInstances([job.instanceId]);
    if (instance?.status === 'Stopping') return waitHere(ctx, current, pollSeconds(ctx));
    if (instance?.status === 'Stopped') await ctx.deps.ecs.startInstance(job.instanceId);
    const text = instance ? `instance ${job.instanceId} started again` : `instance ${job.instanceId} is gone`;
    current = await record(ctx, current, { instanceRestarted: true, notes: noted(current, text) });
  }
  const notes = recoveryState(current).notes ?? [];
  const reason = [ending.reason, ...notes].join('; ');
  return end(ctx, current, ending.status, reason, { release: job.id });
}

/** Clean-up that cannot finish still ends the job, naming what is left so a person can remove it. */
export async function giveUpCleanup(ctx: StepContext, job: Job, why: string): Promise<StepResult> {
  const st = recoveryState(job);
  const ending = st.ending ?? { status: 'FAILED' as const, reason: 'failed' };
  const left = st.diskId && !st.diskRemoved ? `; delete disk ${st.diskId} by hand` : '';
  return end(ctx, job, ending.status, `${ending.reason}; clean-up failed: ${why}${left}`, {
    release: job.id,
  });
}
