import type { JobKind, Resource } from '../jobs/job-kind.js';
import { engineState } from '../jobs/job-kind.js';
import { TAG_JOB } from '../backup/ownership.js';
import { releasePoint } from '../restore/point-use.js';
import { claimStep, copyStep, pollStep, recordStep, startStep } from './copy-steps.js';
import { updatePointCopy } from './point-copies.js';
import { copyParams, copyState } from './state.js';

/** Whether the point already shows this job's copy as complete: then nothing of it may be undone. */
async function copyRecorded(
  ctx: Parameters<Resource['release']>[0],
  job: Parameters<Resource['release']>[1],
) {
  const { pointId, regionId } = copyParams(job);
  const point = await ctx.deps.store.points.get(pointId);
  const entry = point?.copies?.find((c) => c.regionId === regionId);
  return entry?.jobId === job.id && entry.status === 'available';
}

/**
 * The copies made in the target region, also those a crash kept from the record (found by the job
 * tag there). Deleting a copy still in progress cancels it. Never the source backup's snapshots.
 */
export const copiedSnapshots: Resource = {
  name: 'copies',
  async release(ctx, job) {
    if (await copyRecorded(ctx, job))
      return { state: 'released', note: 'the copy had completed and is kept' };
    const { regionId } = copyParams(job);
    const target = ctx.deps.ecs.forRegion(regionId);
    const ids = new Set((copyState(job).copyIds ?? []).filter((id) => id !== ''));
    for (const s of await target.findSnapshotsByTag({ key: TAG_JOB, value: job.id })) ids.add(s.snapshotId);
    for (const id of ids) await target.deleteSnapshot(id);
    return {
      state: 'released',
      note: ids.size > 0 ? `${ids.size} partial copies in ${regionId} deleted` : null,
    };
  },
  leftover: (job) => `snapshots tagged ${TAG_JOB}=${job.id} in ${copyParams(job).regionId}`,
};

/** The backup shows the copy `failed` with the reason; the backup itself is untouched. */
export const copyEntry: Resource = {
  name: 'copy-entry',
  async release(ctx, job) {
    const { pointId, regionId } = copyParams(job);
    const reason = engineState(job).ending?.reason ?? 'copy ended';
    await updatePointCopy(ctx.deps, pointId, regionId, (current) =>
      current === undefined || current.jobId !== job.id || current.status !== 'copying'
        ? null
        : { ...current, status: 'failed', snapshotIds: [], reason },
    );
    return { state: 'released' };
  },
};

export const copyClaim: Resource = {
  name: 'backup-claim',
  async release(ctx, job) {
    await releasePoint(ctx.deps, copyParams(job).pointId, job.id);
    return { state: 'released' };
  },
};

/**
 * A copy job (issue 13): start → claim (the source backup) → copy (CopySnapshot per snapshot) → poll →
 * record (the copy on the backup with its own expiry) → COMPLETE. A copy ECS fails is made again, in
 * at most COPY_ATTEMPTS rounds. Failure or cancel deletes the copies made so far in the target region
 * and marks the backup's copy `failed`; the source backup is never failed nor deleted.
 */
export const copyKind: JobKind = {
  type: 'copy',
  firstStep: 'start',
  steps: { start: startStep, claim: claimStep, copy: copyStep, poll: pollStep, record: recordStep },
  holds: [copiedSnapshots, copyEntry, copyClaim],
  failureHint: 'the backup itself is kept; the next backup of the plan is copied again',
};
