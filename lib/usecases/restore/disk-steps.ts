import type { Job } from '../../domain/model.js';
import type { EcsDisk, Tag } from '../../ports/ecs.js';
import { ownershipTags, partToken, snapshotName } from '../backup/ownership.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { next, pollSeconds, record, stepTimedOut, waitFor, withState } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { recoveryState, type RecoveryState, type RecoveryTarget } from './state.js';

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
export async function sendCreateDisk(ctx: StepContext, job: Job): Promise<string> {
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
  const current = st.diskRequested ? job : await record<RecoveryState>(ctx, job, { diskRequested: true });
  const diskId = await sendCreateDisk(ctx, current);
  return next<RecoveryState>(ctx, current, 'wait-disk', { diskId, diskOwnerJobId: job.id }, 40);
}

async function missing(ctx: StepContext, job: Job, what: string): Promise<StepResult> {
  const reads = (recoveryState(job).missingPolls ?? 0) + 1;
  if (reads > MAX_MISSING_READS) return windDown(ctx, job, 'FAILED', `${what} vanished from ECS`);
  return waitFor(ctx, job, pollSeconds(ctx), {
    state: withState<RecoveryState>(job, { missingPolls: reads }),
  });
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
  return waitFor(ctx, job, pollSeconds(ctx));
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
    return waitFor(ctx, job, pollSeconds(ctx));
  }
  await ctx.deps.ecs.attachDisk(diskId, job.instanceId);
  return next(ctx, job, 'wait-attach', {}, 70);
}

/** Waits until the disk is in use by the instance, then `attached` ends the job. */
export function waitAttachStep(
  attached: (ctx: StepContext, job: Job, device: string | null) => Promise<StepResult>,
): (ctx: StepContext, job: Job) => Promise<StepResult> {
  return async (ctx, job) => {
    const diskId = recoveryState(job).diskId ?? '';
    const disk = await readDisk(ctx, diskId);
    if (!disk) return missing(ctx, job, `the new disk ${diskId}`);
    if (disk.status === 'In_use' && disk.instanceId === job.instanceId)
      return attached(ctx, job, disk.device);
    if (disk.status === 'Available') return next(ctx, job, 'attach');
    if (stepTimedOut(ctx, job)) return timedOut(ctx, job, `disk ${diskId} stayed ${disk.status}`);
    return waitFor(ctx, job, pollSeconds(ctx));
  };
}
