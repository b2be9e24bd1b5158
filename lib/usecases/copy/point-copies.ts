import type { CopyRule, PointCopy } from '../../domain/copies.js';
import { copyExpiryId, isPresent, withCopy } from '../../domain/copies.js';
import { newJob } from '../../domain/job.js';
import type { BackupPoint, Job } from '../../domain/model.js';
import type { Deps } from '../deps.js';
import { enqueueJob } from '../enqueue-job.js';
import { copyJobId, type CopyJobParams } from './state.js';

const MAX_ATTEMPTS = 8;

/**
 * Changes the point's copy of one region with a conditional write (retried on a lost race). `change`
 * sees the current entry (undefined when none) and answers the new one, or null to leave it.
 */
export async function updatePointCopy(
  deps: Pick<Deps, 'store'>,
  pointId: string,
  regionId: string,
  change: (current: PointCopy | undefined) => PointCopy | null,
): Promise<BackupPoint | undefined> {
  for (let i = 0; i < MAX_ATTEMPTS; i += 1) {
    const point = await deps.store.points.get(pointId);
    if (!point) return undefined;
    const next = change(point.copies?.find((c) => c.regionId === regionId));
    if (next === null) return point;
    const written = await deps.store.points.update(
      { ...point, copies: withCopy(point.copies, next) },
      point.version,
    );
    if (written.ok) return written.value;
  }
  throw new Error(`backup ${pointId} kept changing while its copy to ${regionId} was recorded`);
}

/**
 * Makes sure retention will find the copy by its expiry: the row is written before the point records
 * the copy (so a crash between leaves a row and no recorded copy, which the sweep drops, never the
 * other way round), and never moved later here; the sweep moves an early row to the point's value.
 */
export async function indexCopyExpiry(
  deps: Pick<Deps, 'store'>,
  pointId: string,
  regionId: string,
  expireAt: number,
): Promise<void> {
  const id = copyExpiryId(pointId, regionId);
  for (let i = 0; i < MAX_ATTEMPTS; i += 1) {
    const created = await deps.store.copyExpiries.create({ id, pointId, regionId, expireAt, version: 0 });
    if (created.ok || created.reason !== 'exists') return;
    const row = created.current ?? (await deps.store.copyExpiries.get(id));
    if (!row) continue;
    if (row.expireAt <= expireAt) return;
    if ((await deps.store.copyExpiries.update({ ...row, expireAt }, row.version)).ok) return;
  }
  throw new Error(`the expiry of the copy of ${pointId} in ${regionId} kept changing`);
}

/**
 * A backup whose own snapshots are gone stays while a copy of it is present (COPIES_ONLY); when none
 * is left, it is DELETED like any deleted backup.
 */
export async function settleCopiesOnly(deps: Pick<Deps, 'store'>, pointId: string): Promise<void> {
  for (let i = 0; i < MAX_ATTEMPTS; i += 1) {
    const point = await deps.store.points.get(pointId);
    if (!point || point.status !== 'COPIES_ONLY' || (point.copies ?? []).some(isPresent)) return;
    if ((await deps.store.points.update({ ...point, status: 'DELETED' }, point.version)).ok) return;
  }
  throw new Error(`backup ${pointId} kept changing while its last copy was deleted`);
}

/**
 * The copy jobs of a backup that just recorded its point, one per region of its plan. Ids derive from
 * the backup job, so a record step run twice (a crash, a redelivery) creates each job once.
 */
export async function enqueueCopies(
  deps: Pick<Deps, 'store' | 'jobQueue' | 'clock'>,
  backup: Job,
  point: BackupPoint,
  rules: readonly CopyRule[],
): Promise<Job[]> {
  const timeZone = typeof backup.params.timeZone === 'string' ? backup.params.timeZone : 'UTC';
  const jobs: Job[] = [];
  for (const rule of rules) {
    const params: CopyJobParams = {
      pointId: point.id,
      regionId: rule.regionId,
      retention: rule.retention,
      timeZone,
    };
    const job = newJob(
      {
        id: copyJobId(backup.id, rule.regionId),
        type: 'copy',
        instanceId: point.instanceId,
        planId: point.planId,
        params: { ...params },
      },
      deps.clock.now(),
    );
    jobs.push((await enqueueJob(deps, job)).job);
  }
  return jobs;
}
