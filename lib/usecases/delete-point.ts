import { isPresent } from '../domain/copies.js';
import { decideLock } from '../domain/lock.js';
import type { BackupPoint } from '../domain/model.js';
import { EcsError } from '../ports/ecs.js';
import type { Deps } from './deps.js';
import { ecsReaders } from './jobs/ecs-readers.js';
import { isOurs } from './backup/ownership.js';

/**
 * `locked`: refused by the point's backup lock (lib/domain/lock.ts); `refused`: refused by
 * `options.refuse`.
 */
export type DeleteResult = { ok: true } | { ok: false; reason: string; refused?: boolean; locked?: boolean };

export interface DeleteOptions {
  /**
   * Asked once the point is claimed (DELETING), when it was AVAILABLE: a reason to keep it after all,
   * or null. Asked after the claim so that two deletes racing each other see each other's claim.
   */
  refuse?: (point: BackupPoint) => Promise<string | null>;
  /** A governance lock's override: the caller checked the break-glass token. */
  breakGlass?: boolean;
}

const describeError = (err: unknown) =>
  err instanceof EcsError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);

/**
 * Deletes a backup point's snapshots and marks it DELETED, or COPIES_ONLY while a copy of it in
 * another region is present (the copy outlives its source until its own expiry). Refuses a point in use (mount, restore,
 * export) or not created by us, and never deletes a snapshot without our managed-by tag. A refused
 * or failed delete (a snapshot backing an image or a disk) is recorded on the point as
 * DELETE_FAILED with the reason, and retention tries it again on its next sweep.
 */
export async function deleteBackupPoint(
  deps: Deps,
  pointId: string,
  reason: string,
  options: DeleteOptions = {},
): Promise<DeleteResult> {
  const claimed = await claim(deps, pointId, options.breakGlass === true);
  if ('done' in claimed) return claimed.done;
  const point = claimed.point;
  if (options.refuse !== undefined && claimed.from === 'AVAILABLE') {
    const refusal = await options.refuse(point);
    if (refusal !== null) {
      // Back to AVAILABLE at the claim's version: nothing else writes a DELETING point meanwhile.
      await deps.store.points.update({ ...point, status: 'AVAILABLE' }, point.version);
      return { ok: false, reason: refusal, refused: true };
    }
  }
  const problems = await deleteSnapshots(deps, point);
  const now = deps.clock.now();
  for (let i = 0; i < 5; i += 1) {
    const current = i === 0 ? point : await deps.store.points.get(pointId);
    if (!current) return { ok: true };
    const next: BackupPoint =
      problems.length === 0
        ? {
            ...current,
            status: (current.copies ?? []).some(isPresent) ? 'COPIES_ONLY' : 'DELETED',
            lastError: null,
          }
        : { ...current, status: 'DELETE_FAILED', lastError: problems.join('; ') };
    const written = await deps.store.points.update(next, current.version);
    if (written.ok) break;
  }
  if (problems.length > 0) {
    deps.log.warn('backup point not deleted', { pointId, reason, problems });
    return { ok: false, reason: problems.join('; ') };
  }
  deps.log.info('backup point deleted', { pointId, reason, at: now });
  return { ok: true };
}

/**
 * Marks the point DELETING with a conditional write, so a mount or restore that claims it at the
 * same moment either wins (and the delete is refused) or sees it going. Every deletion (API,
 * retention, a job's cleanup) passes here, so this is where a backup lock holds; a governance
 * override is written in the same conditional write as DELETING.
 */
async function claim(
  deps: Deps,
  pointId: string,
  breakGlass: boolean,
): Promise<{ point: BackupPoint; from: BackupPoint['status'] } | { done: DeleteResult }> {
  for (let i = 0; i < 5; i += 1) {
    const point = await deps.store.points.get(pointId);
    if (!point) return { done: { ok: false, reason: `backup point ${pointId} not found` } };
    if (point.status === 'DELETED') return { done: { ok: true } };
    if (point.status === 'COPIES_ONLY') return { done: { ok: false, reason: copiesOnly(point) } };
    if (point.inUseBy.length > 0) {
      return { done: { ok: false, reason: `backup point is in use by job(s) ${point.inUseBy.join(', ')}` } };
    }
    if (!point.ours) {
      return {
        done: {
          ok: false,
          reason: 'backup point was not created by ecs-backup; its snapshots are left alone',
        },
      };
    }
    if (point.status === 'DELETING') return { point, from: point.status };
    const now = deps.clock.now();
    const decision = decideLock(point, { kind: 'delete' }, now, breakGlass);
    if (!decision.allowed) return { done: { ok: false, reason: decision.reason, locked: true } };
    const next: BackupPoint = { ...point, status: 'DELETING' };
    if (decision.override && point.lock) {
      next.lock = { ...point.lock, overrides: [...point.lock.overrides, { action: 'delete', at: now }] };
    }
    const written = await deps.store.points.update(next, point.version);
    if (written.ok) return { point: written.value, from: point.status };
  }
  return { done: { ok: false, reason: 'backup point kept changing; try again' } };
}

/** Why a COPIES_ONLY point is not deleted on request: its copies go at their own expiry. */
export function copiesOnly(point: BackupPoint): string {
  const regions = (point.copies ?? []).filter(isPresent).map((c) => c.regionId);
  return `backup ${point.id} has only its copies left (in ${regions.join(', ')}); each is deleted at its own expiry`;
}

async function deleteSnapshots(deps: Deps, point: BackupPoint): Promise<string[]> {
  const readers = ecsReaders(deps.ecs, deps.clock, deps.settings.POLL_INTERVAL_SECONDS);
  const problems: string[] = [];
  if (point.snapshotGroupId) {
    try {
      const group = await readers.groups.get(point.snapshotGroupId, 0);
      if (group && !isOurs(group.tags)) {
        problems.push(
          `snapshot group ${point.snapshotGroupId} lacks the ecs-backup managed-by tag; not deleted`,
        );
      } else if (group) {
        // The adapter reports member snapshots ECS kept (they back an image or a disk) as an error.
        await deps.ecs.deleteSnapshotGroup(point.snapshotGroupId);
        readers.groups.unwatch(point.snapshotGroupId);
      }
    } catch (err) {
      problems.push(`snapshot group ${point.snapshotGroupId}: ${describeError(err)}`);
    }
    return problems;
  }
  for (const entry of point.snapshots) {
    try {
      const snap = await readers.snapshots.get(entry.snapshotId, 0);
      if (!snap) continue;
      if (!isOurs(snap.tags)) {
        problems.push(`snapshot ${entry.snapshotId} lacks the ecs-backup managed-by tag; not deleted`);
        continue;
      }
      await deps.ecs.deleteSnapshot(entry.snapshotId);
      readers.snapshots.unwatch(entry.snapshotId);
    } catch (err) {
      problems.push(`snapshot ${entry.snapshotId}: ${describeError(err)}`);
    }
  }
  return problems;
}
