import { expiredCopies, isPresent, type CopyExpiry, type PointCopy } from '../../domain/copies.js';
import { isOurs } from '../backup/ownership.js';
import type { Deps } from '../deps.js';
import { settleCopiesOnly, updatePointCopy } from './point-copies.js';

export interface CopyRetentionReport {
  deleted: number;
  failed: { pointId: string; regionId: string; reason: string }[];
}

/**
 * Deletes every copy whose own expiry has passed, in its own region, and marks it `deleted` on its
 * backup. Copies are found through their expiry rows (`store.copyExpiries`, one per copy present),
 * so the sweep reads what is due and nothing else: its cost grows with the copies that expire, not
 * with the copies, jobs or points stored. The point stays the truth: a row that is early (it is
 * written before the point records the copy) is moved to the copy's expiry, a row whose copy is gone
 * is dropped. The backup's lock binds a copy to its expiry like the backup: nothing deletes it
 * earlier. A copy a restore is reading (the point is in use) waits for the next sweep. A snapshot
 * without our tag is never deleted; a failed delete is recorded and retried by the next sweep. When
 * the last copy of a backup whose own snapshots are gone (COPIES_ONLY) is deleted, the backup is.
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
    const page = await deps.store.copyExpiries.due(now, 200, cursor);
    cursor = page.cursor;
    for (const row of page.items) await expireCopy(deps, row, now, report);
  } while (cursor);
  return report;
}

async function expireCopy(
  deps: Deps,
  row: CopyExpiry,
  now: number,
  report: CopyRetentionReport,
): Promise<void> {
  const point = await deps.store.points.get(row.pointId);
  const current = point?.copies?.find((c) => c.regionId === row.regionId);
  if (!point || !current || !isPresent(current)) {
    await deps.store.copyExpiries.delete(row.id, row.version);
    return;
  }
  const entry = expiredCopies([current], now)[0];
  if (!entry) {
    if (current.expireAt > row.expireAt) {
      await deps.store.copyExpiries.update({ ...row, expireAt: current.expireAt }, row.version);
    }
    return;
  }
  if (point.inUseBy.length > 0) return;
  const reason = await deleteCopy(deps, entry);
  await updatePointCopy(deps, point.id, row.regionId, (latest) =>
    latest?.jobId !== entry.jobId
      ? null
      : reason === null
        ? { ...latest, status: 'deleted', reason: `expired ${new Date(entry.expireAt).toISOString()}` }
        : { ...latest, status: 'delete_failed', reason },
  );
  if (reason !== null) {
    report.failed.push({ pointId: point.id, regionId: row.regionId, reason });
    return;
  }
  report.deleted += 1;
  await deps.store.copyExpiries.delete(row.id, row.version);
  await settleCopiesOnly(deps, point.id);
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
