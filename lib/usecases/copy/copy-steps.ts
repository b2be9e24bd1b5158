import { expireAt } from '../../domain/retention.js';
import type { Job } from '../../domain/model.js';
import { ownershipTags, partToken, snapshotName } from '../backup/ownership.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { begin, finish, next, pollSeconds, record, waitFor } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { claimPoint, releasePoint } from '../restore/point-use.js';
import { indexCopyExpiry, updatePointCopy } from './point-copies.js';
import { COPY_ATTEMPTS, copyParams, copyState, type CopyJobState } from './state.js';

/** The job becomes RUNNING before it claims anything, so a failure from here on always cleans up. */
export async function startStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const { pointId } = copyParams(job);
  const point = await ctx.deps.store.points.get(pointId);
  if (!point || point.status !== 'AVAILABLE') {
    return windDown(ctx, job, 'FAILED', `backup ${pointId} is ${point?.status ?? 'gone'}: nothing to copy`);
  }
  return begin<CopyJobState>(ctx, job, 'claim', { pointId }, 5);
}

/**
 * Claims the source backup (it cannot be deleted while its snapshots are read) and shows the copy on
 * it as `copying`.
 */
export async function claimStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const { pointId, regionId } = copyParams(job);
  const claimed = await claimPoint(ctx.deps, pointId, job.id);
  if (!claimed.ok) return windDown(ctx, job, 'FAILED', claimed.reason);
  await updatePointCopy(ctx.deps, pointId, regionId, (current) =>
    current?.jobId === job.id && current.status === 'copying'
      ? null
      : { regionId, jobId: job.id, snapshotIds: [], status: 'copying', expireAt: 0, reason: null },
  );
  return next(ctx, job, 'copy', {}, 10);
}

/**
 * One CopySnapshot per snapshot of the point, each recorded as soon as ECS answers. The ClientToken
 * is derived from the job, the round and the snapshot, so a call repeated after a crash returns the
 * copy the first one made.
 */
export async function copyStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const { pointId, regionId } = copyParams(job);
  const point = await ctx.deps.store.points.get(pointId);
  if (!point) return windDown(ctx, job, 'FAILED', `backup ${pointId} disappeared while it was copied`);
  const st = copyState(job);
  const attempt = st.attempt ?? 0;
  const ids = point.snapshots.map((_, i) => st.copyIds?.[i] ?? '');
  let current = job;
  for (const [i, snap] of point.snapshots.entries()) {
    if (ids[i]) continue;
    ids[i] = await ctx.deps.ecs.copySnapshot({
      snapshotId: snap.snapshotId,
      destinationRegionId: regionId,
      name: snapshotName(job.id, `-${i}`),
      description: `copy of ${snap.snapshotId} (${snap.diskId}) of backup ${pointId}`,
      tags: ownershipTags(job),
      clientToken: partToken(job.id, `copy/${attempt}/${i}`),
    });
    current = await record<CopyJobState>(ctx, current, { copyIds: [...ids] });
  }
  return next(ctx, current, 'poll', {}, 20);
}

/**
 * Waits for every copy. A copy ECS reports failed (or that vanished) is deleted and made again in a
 * new round, at most COPY_ATTEMPTS rounds; then the job fails and its clean-up deletes the rest.
 */
export async function pollStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const { regionId } = copyParams(job);
  const st = copyState(job);
  const ids = st.copyIds ?? [];
  const target = ctx.deps.ecs.forRegion(regionId);
  const seen = new Map((await target.describeSnapshots(ids)).map((s) => [s.snapshotId, s]));
  const failed = ids.filter(
    (id) => seen.get(id)?.status !== 'accomplished' && seen.get(id)?.status !== 'progressing',
  );
  if (failed.length > 0) {
    const attempt = (st.attempt ?? 0) + 1;
    const what = failed.map(
      (id) => `${id} ${seen.get(id) ? `failed at ${seen.get(id)!.progress}%` : 'vanished'}`,
    );
    if (attempt >= COPY_ATTEMPTS) {
      return windDown(ctx, job, 'FAILED', `copy to ${regionId} failed ${attempt} times: ${what.join(', ')}`);
    }
    for (const id of failed) await target.deleteSnapshot(id);
    const kept = ids.map((id) => (failed.includes(id) ? '' : id));
    return next(ctx, job, 'copy', { copyIds: kept, attempt } as Partial<CopyJobState>);
  }
  const progress = ids.reduce((sum, id) => sum + (seen.get(id)?.progress ?? 0), 0) / Math.max(1, ids.length);
  if (ids.every((id) => seen.get(id)?.status === 'accomplished')) return next(ctx, job, 'record', {}, 95);
  return waitFor(ctx, job, pollSeconds(ctx), {
    progress: Math.max(job.progress, Math.round(20 + progress * 0.75)),
  });
}

/** The copy is recorded on the backup with its own expiry, counted from now; the backup is released. */
export async function recordStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const { pointId, regionId, retention, timeZone } = copyParams(job);
  const ids = copyState(job).copyIds ?? [];
  const now = ctx.deps.clock.now();
  const until = expireAt(now, retention, timeZone);
  await indexCopyExpiry(ctx.deps, pointId, regionId, until);
  await updatePointCopy(ctx.deps, pointId, regionId, (current) =>
    current?.jobId === job.id && current.status === 'available'
      ? null
      : { regionId, jobId: job.id, snapshotIds: ids, status: 'available', expireAt: until, reason: null },
  );
  await releasePoint(ctx.deps, pointId, job.id);
  return finish(ctx, job, 'COMPLETE', null, { progress: 100 });
}
