import type { Job } from '../../domain/model.js';
import { EcsError, type Tag } from '../../ports/ecs.js';
import { ownershipTags, partToken, snapshotName } from '../backup/ownership.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { begin, next, pollSeconds, record, stepTimedOut, waitFor, withState } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { TAG_BACKUP } from '../restore/disk-steps.js';
import { completeRecovery } from '../restore/held-resources.js';
import { claimPoint } from '../restore/point-use.js';
import { refusalReason } from '../restore/check.js';
import { checkClone } from './check.js';
import { cloneParams, cloneState, type CloneState } from './state.js';

/**
 * start -> claim -> create-image -> wait-image -> launch -> wait-running -> delete-image -> COMPLETE
 * (delete-image is skipped with keepImage). Each create is sent with a ClientToken derived from the
 * job, after its intent is recorded, so a repeat after a crash answers the first resource.
 */

/** A new image or instance is listed shortly after it is made; this many empty reads mean it is gone. */
const MAX_MISSING_READS = 5;

function tagsOf(job: Job): Tag[] {
  return [...ownershipTags(job), { key: TAG_BACKUP, value: cloneParams(job).backupId }];
}

function fail(ctx: StepContext, job: Job, reason: string): Promise<StepResult> {
  return windDown(ctx, job, 'FAILED', reason);
}

async function missing(ctx: StepContext, job: Job, what: string): Promise<StepResult> {
  const reads = (cloneState(job).missingPolls ?? 0) + 1;
  if (reads > MAX_MISSING_READS) return fail(ctx, job, `${what} vanished from ECS`);
  return waitFor(ctx, job, pollSeconds(ctx), { state: withState<CloneState>(job, { missingPolls: reads }) });
}

function timedOut(ctx: StepContext, job: Job, what: string): Promise<StepResult> {
  const minutes = Math.round(ctx.deps.settings.START_WINDOW_SECONDS / 60);
  return fail(ctx, job, `${what} for more than ${minutes} minutes; ECS may be degraded: retry later`);
}

export async function startStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const checked = await checkClone(ctx.deps, cloneParams(job));
  if (!checked.ok) return fail(ctx, job, refusalReason(checked));
  const patch: Partial<CloneState> = { pointId: checked.value.point.id, zoneId: checked.value.zoneId };
  return begin(ctx, job, 'claim', patch, 5);
}

export async function claimStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const claimed = await claimPoint(ctx.deps, cloneState(job).pointId ?? '', job.id, {
    fromCopy: cloneParams(job).regionId !== undefined,
  });
  if (!claimed.ok) return fail(ctx, job, claimed.reason);
  return next(ctx, job, 'create-image', {}, 10);
}

/**
 * CreateImage from the point's system-disk snapshot, with the data disks' as its further mappings;
 * from a copy, the copy's snapshots in its region (`snapshotIds[i]` is the copy of `snapshots[i]`).
 */
export async function sendCreateImage(ctx: StepContext, job: Job): Promise<string> {
  const { backupId, regionId } = cloneParams(job);
  const point = await ctx.deps.store.points.get(backupId);
  if (!point) throw new Error(`backup ${backupId} vanished while job ${job.id} held it`);
  const copy = regionId === undefined ? null : point.copies?.find((c) => c.regionId === regionId);
  if (copy === undefined)
    throw new Error(`backup ${backupId} lost its copy in ${regionId} while job ${job.id} held it`);
  const sources = point.snapshots.map((s, i) => ({
    ...s,
    snapshotId: copy ? (copy.snapshotIds[i] ?? '') : s.snapshotId,
  }));
  const system = sources.find((s) => s.diskType === 'system');
  const data = sources.filter((s) => s.diskType !== 'system');
  return ctx.deps.ecs.createImage({
    systemSnapshotId: system?.snapshotId ?? '',
    dataSnapshotIds: data.map((s) => s.snapshotId),
    name: snapshotName(job.id, '-image'),
    description: `clone of ${point.instanceId} from backup ${point.id}`,
    tags: tagsOf(job),
    clientToken: partToken(job.id, 'image'),
  });
}

export async function createImageStep(ctx: StepContext, job: Job): Promise<StepResult> {
  if (cloneState(job).imageId) return next(ctx, job, 'wait-image', {}, 15);
  const current = cloneState(job).imageRequested
    ? job
    : await record<CloneState>(ctx, job, { imageRequested: true });
  const imageId = await sendCreateImage(ctx, current);
  return next<CloneState>(ctx, current, 'wait-image', { imageId }, 15);
}

export async function waitImageStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const imageId = cloneState(job).imageId ?? '';
  const [image] = await ctx.deps.ecs.describeImages([imageId]);
  if (!image) return missing(ctx, job, `the new image ${imageId}`);
  if (image.status === 'Available') return next<CloneState>(ctx, job, 'launch', { missingPolls: 0 }, 50);
  if (image.status !== 'Creating' && image.status !== 'Waiting') {
    return fail(ctx, job, `the image ${imageId} is ${image.status} instead of Available`);
  }
  if (stepTimedOut(ctx, job)) return timedOut(ctx, job, `image ${imageId} stayed ${image.status}`);
  const progress = 15 + Math.floor((image.progress * 35) / 100);
  return waitFor(ctx, job, pollSeconds(ctx), { progress: Math.max(job.progress, progress) });
}

export async function sendRunInstance(ctx: StepContext, job: Job): Promise<string> {
  const p = cloneParams(job);
  return ctx.deps.ecs.runInstance({
    imageId: cloneState(job).imageId ?? '',
    instanceType: p.instanceType,
    vSwitchId: p.vSwitchId,
    securityGroupIds: p.securityGroupIds,
    ...(p.instanceName ? { instanceName: p.instanceName } : {}),
    ...(p.hostName ? { hostName: p.hostName } : {}),
    ...(p.keyPairName ? { keyPairName: p.keyPairName } : {}),
    // Ours last, so a request's tag cannot pass itself off as the job's.
    tags: [...p.tags.filter((t) => !t.key.startsWith('ecs-backup:')), ...tagsOf(job)],
    clientToken: partToken(job.id, 'instance'),
  });
}

export async function launchStep(ctx: StepContext, job: Job): Promise<StepResult> {
  if (cloneState(job).newInstanceId) return next(ctx, job, 'wait-running', {}, 60);
  const current = cloneState(job).runRequested
    ? job
    : await record<CloneState>(ctx, job, { runRequested: true });
  const newInstanceId = await sendRunInstance(ctx, current);
  return next<CloneState>(ctx, current, 'wait-running', { newInstanceId }, 60);
}

export async function waitRunningStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const id = cloneState(job).newInstanceId ?? '';
  const instance = await ctx.deps.ecs.describeInstanceAttribute(id);
  if (!instance) return missing(ctx, job, `the new instance ${id}`);
  if (instance.status === 'Running') {
    const patch: Partial<CloneState> = { launched: true, missingPolls: 0 };
    if (cloneParams(job).keepImage) return done(ctx, await record<CloneState>(ctx, job, patch));
    return next<CloneState>(ctx, job, 'delete-image', patch, 90);
  }
  if (instance.status !== 'Pending' && instance.status !== 'Starting') {
    return fail(ctx, job, `the new instance ${id} is ${instance.status} instead of Running`);
  }
  if (stepTimedOut(ctx, job)) return timedOut(ctx, job, `instance ${id} stayed ${instance.status}`);
  return waitFor(ctx, job, pollSeconds(ctx), { progress: Math.max(job.progress, 75) });
}

/**
 * The temporary image goes once the instance runs (its disks are made; the image is no longer
 * needed). A refusal to delete it does not undo a clone that worked: the job completes and says so.
 */
export async function deleteImageStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const imageId = cloneState(job).imageId ?? '';
  try {
    await ctx.deps.ecs.deleteImage(imageId);
  } catch (err) {
    if (!(err instanceof EcsError) || err.retryable) throw err;
    if (!stepTimedOut(ctx, job) && err.code === 'IncorrectImageStatus')
      return waitFor(ctx, job, pollSeconds(ctx));
    return done(ctx, job, `image ${imageId} could not be deleted (${err.code}): delete it by hand`);
  }
  return done(ctx, job);
}

async function done(ctx: StepContext, job: Job, note?: string): Promise<StepResult> {
  const st = cloneState(job);
  const p = cloneParams(job);
  const image = p.keepImage ? `image ${st.imageId} kept` : `image ${st.imageId} deleted`;
  const reason = [
    `instance ${st.newInstanceId} launched from backup ${p.backupId} (${p.instanceType} in ${st.zoneId})`,
    note ?? image,
    ...(st.notes ?? []),
  ].join('; ');
  return completeRecovery(ctx, job, reason, { release: job.id, progress: 100 });
}
