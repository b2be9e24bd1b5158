import type { Job } from '../../domain/model.js';
import type { Tag } from '../../ports/ecs.js';
import { ownershipTags, partToken, snapshotName } from '../backup/ownership.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { next, pollSeconds, record, stepTimedOut, waitFor, withState } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { TAG_BACKUP } from '../restore/disk-steps.js';
import { TAG_VERIFY, verifyState, type VerifyDisk, type VerifyState } from './state.js';

/** A new disk is listed shortly after CreateDisk answers; this many empty reads mean it is really gone. */
const MAX_MISSING_READS = 5;

function diskTags(job: Job, pointId: string): Tag[] {
  return [...ownershipTags(job), { key: TAG_BACKUP, value: pointId }, { key: TAG_VERIFY, value: job.id }];
}

/** CreateDisk with a ClientToken from the job and the snapshot: sent again, it answers the same disk. */
export async function sendCreateDisk(ctx: StepContext, job: Job, disk: VerifyDisk): Promise<string> {
  const st = verifyState(job);
  return ctx.deps.ecs.createDisk({
    zoneId: st.zoneId ?? '',
    snapshotId: disk.snapshotId,
    category: disk.category,
    name: snapshotName(job.id, '-verify'),
    tags: diskTags(job, st.pointId ?? 'none'),
    clientToken: partToken(job.id, `verify-disk\n${disk.snapshotId}`),
  });
}

/** One disk per snapshot of the point. The intent is recorded first: a clean-up then looks for them. */
export async function createDisksStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = verifyState(job);
  const current = st.disksRequested ? job : await record<VerifyState>(ctx, job, { disksRequested: true });
  const disks: VerifyDisk[] = [];
  for (const d of st.disks ?? []) {
    disks.push(d.diskId ? d : { ...d, diskId: await sendCreateDisk(ctx, current, d) });
  }
  return next<VerifyState>(ctx, current, 'wait-disks', { disks }, 30);
}

function diskIds(job: Job): string[] {
  return (verifyState(job).disks ?? []).map((d) => d.diskId ?? '');
}

async function missing(ctx: StepContext, job: Job, diskId: string): Promise<StepResult> {
  const reads = (verifyState(job).missingPolls ?? 0) + 1;
  if (reads > MAX_MISSING_READS)
    return windDown(ctx, job, 'FAILED', `the new disk ${diskId} vanished from ECS`);
  return waitFor(ctx, job, pollSeconds(ctx), { state: withState<VerifyState>(job, { missingPolls: reads }) });
}

function timedOut(ctx: StepContext, job: Job, what: string): Promise<StepResult> {
  const minutes = Math.round(ctx.deps.settings.START_WINDOW_SECONDS / 60);
  return windDown(ctx, job, 'FAILED', `${what} for more than ${minutes} minutes; ECS may be degraded`);
}

export async function waitDisksStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const ids = diskIds(job);
  const found = new Map((await ctx.deps.ecs.describeDisks(ids)).map((d) => [d.diskId, d]));
  for (const id of ids) {
    const disk = found.get(id);
    if (!disk) return missing(ctx, job, id);
    if (disk.status === 'Creating') {
      if (stepTimedOut(ctx, job)) return timedOut(ctx, job, `disk ${id} stayed Creating`);
      return waitFor(ctx, job, pollSeconds(ctx));
    }
    if (disk.status !== 'Available') {
      return windDown(ctx, job, 'FAILED', `the new disk ${id} is ${disk.status} instead of Available`);
    }
  }
  return next(ctx, job, 'attach', {}, 45);
}

/**
 * Attaches the disks to the helper one at a time (ECS refuses a second attach to an instance while
 * one is under way). AttachDisk takes no ClientToken: each disk's state says whether a send got
 * through. Once all are in use by the helper, their device names are recorded.
 */
export async function attachStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = verifyState(job);
  const helper = st.helperId ?? '';
  const ids = diskIds(job);
  const found = new Map((await ctx.deps.ecs.describeDisks(ids)).map((d) => [d.diskId, d]));
  for (const id of ids) {
    const disk = found.get(id);
    if (!disk) return missing(ctx, job, id);
    if (disk.status === 'In_use' && disk.instanceId === helper) continue;
    if (disk.status === 'Available') await ctx.deps.ecs.attachDisk(id, helper);
    else if (disk.status !== 'Attaching') {
      if (stepTimedOut(ctx, job)) return timedOut(ctx, job, `disk ${id} stayed ${disk.status}`);
    }
    if (stepTimedOut(ctx, job)) return timedOut(ctx, job, `disk ${id} could not be attached to ${helper}`);
    return waitFor(ctx, job, pollSeconds(ctx));
  }
  const disks = (st.disks ?? []).map((d) => ({ ...d, device: found.get(d.diskId ?? '')?.device ?? null }));
  return next<VerifyState>(ctx, job, 'run-guest', { disks }, 60);
}
