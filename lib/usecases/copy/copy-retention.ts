import { expiredCopies, type PointCopy } from '../../domain/copies.js';
import type { Job } from '../../domain/model.js';
import { isOurs } from '../backup/ownership.js';
import type { Deps } from '../deps.js';
import { updatePointCopy } from './point-copies.js';
import { copyParams } from './state.js';

export interface CopyRetentionReport {
  deleted: number;
  failed: { pointId: string; regionId: string; reason: string }[];
}

/**
 * Deletes every copy whose own expiry has passed, in its own region, and marks it `deleted` on its
 * backup. A copy is found through the copy job that made it (completed copy jobs, oldest first), so
 * the sweep reads one job and one point per completed copy: unlike point retention, its cost grows
 * with the copies stored, not only with those that expire (see the README's known limits). The
 * backup's lock binds a copy to its expiry like the backup: nothing deletes it earlier. A snapshot
 * without our tag is never deleted; a failed delete is recorded and retried by the next sweep.
 */
export async function enforceCopyRetention(
  deps: Deps,
  now: number,
  options: { budgetMs?: number } = {},
): Promise<CopyRetentionReport> {
  const report: CopyRetentionReport = { deleted: 0, failed: [] };
  const started = deps.clock.now();
  let cursor: string | undefined;
  do {
    if (deps.clock.now() - started > (options.budgetMs ?? Number.POSITIVE_INFINITY)) break;
    const page = await deps.store.jobs.list(
      { type: 'copy', status: 'COMPLETE' },
      { limit: 200, cursor, order: 'asc' },
    );
    cursor = page.cursor;
    for (const job of page.items) await expireCopyOf(deps, job, now, report);
  } while (cursor);
  return report;
}

async function expireCopyOf(deps: Deps, job: Job, now: number, report: CopyRetentionReport): Promise<void> {
  const { pointId, regionId } = copyParams(job);
  const point = await deps.store.points.get(pointId);
  const entry = expiredCopies(point?.copies, now).find((c) => c.regionId === regionId && c.jobId === job.id);
  if (!entry) return;
  const reason = await deleteCopy(deps, entry);
  await updatePointCopy(deps, pointId, regionId, (current) =>
    current?.jobId !== job.id
      ? null
      : reason === null
        ? { ...current, status: 'deleted', reason: `expired ${new Date(entry.expireAt).toISOString()}` }
        : { ...current, status: 'delete_failed', reason },
  );
  if (reason === null) report.deleted += 1;
  else report.failed.push({ pointId, regionId, reason });
}

/** Null when every snapshot of the copy is gone; otherwise why one stays. */
async function deleteCopy(deps: Deps, copy: PointCopy): Promise<string | null> {
  const region = deps.ecs.forRegion(copy.regionId);
  try {
    const found = await region.describeSnapshots(copy.snapshotIds);
    const foreign = found.filter((s) => !isOurs(s.tags));
    if (foreign.length > 0) {
      return `snapshot ${foreign[0]!.snapshotId} in ${copy.regionId} does not carry our tag; not deleted`;
    }
    for (const s of found) await region.deleteSnapshot(s.snapshotId);
    return null;
  } catch (err) {
    return `deleting the copy in ${copy.regionId} failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}
