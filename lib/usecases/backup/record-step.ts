import type { BackupJobParams, Job } from '../../domain/model.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { finish, withState } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { enqueueCopies } from '../copy/point-copies.js';
import { verifyIfDue } from '../verify/enqueue.js';
import { recordBackupPoint } from './record-point.js';
import { backupState, type BackupJobState } from './state.js';

/** Writes the backup point and ends the job: partial when a disk was missing or its snapshot failed. */
export async function recordStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const recorded = await recordBackupPoint(ctx.deps, job, ctx.readers);
  if ('error' in recorded) return windDown(ctx, job, 'FAILED', recorded.error);
  // Before the job ends: a crash between the two finds the same copy jobs on redelivery.
  const copies = (job.params as Partial<BackupJobParams>).copies ?? [];
  if (copies.length > 0) await enqueueCopies(ctx.deps, job, recorded.point, copies);
  const st = backupState(job);
  const partial = [...(st.missingDisks ?? []), ...Object.keys(st.failedDisks ?? {})];
  const status = partial.length > 0 ? 'PARTIAL_COMPLETE' : 'COMPLETE';
  if (status === 'COMPLETE') await verifyIfDue(ctx.deps, job.planId, recorded.point);
  const reasons = [...(st.notes ?? [])];
  for (const r of Object.values(st.failedDisks ?? {})) if (!reasons.includes(r)) reasons.push(r);
  const reason = reasons.length > 0 ? reasons.join('; ') : null;
  ctx.readers.groups.unwatch(st.snapshotGroupId ?? '');
  for (const id of [...Object.values(st.snapshots ?? {}), ...(st.groupSnapshotIds ?? [])])
    ctx.readers.snapshots.unwatch(id);
  return finish(ctx, job, status, reason, {
    progress: 100,
    state: withState<BackupJobState>(job, { notes: reasons, pointId: recorded.point.id }),
  });
}
