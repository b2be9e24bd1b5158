import { decideLock, strengthenLock, type LockRequest } from '../../domain/lock.js';
import type { BackupPoint } from '../../domain/model.js';
import type { Page, PageRequest, PointFilter } from '../../ports/store.js';
import type { Deps } from '../deps.js';
import { copiesOnly, deleteBackupPoint } from '../delete-point.js';
import type { Outcome } from './outcome.js';
import { conflict, invalid, MAX_WRITE_ATTEMPTS, notFound, ok } from './outcome.js';

export async function listBackups(
  deps: Pick<Deps, 'store'>,
  filter: PointFilter,
  page: PageRequest,
): Promise<Page<BackupPoint>> {
  return deps.store.points.list(filter, page);
}

export async function getBackup(deps: Pick<Deps, 'store'>, pointId: string): Promise<Outcome<BackupPoint>> {
  const point = await deps.store.points.get(pointId);
  return point === undefined ? notFound('backup', pointId) : ok(point);
}

/** Points whose expiry still means something: not gone, not on their way out. */
const LIVE: ReadonlySet<BackupPoint['status']> = new Set(['AVAILABLE', 'DELETE_FAILED', 'CREATING']);

export interface BackupChange {
  expireAt?: number;
  lock?: LockRequest;
}

/**
 * Sets one point's expiry and/or locks it. A long-term keep still holds the point until its own date:
 * the effective expiry is the later of the two, which is what retention compares with now. A locked
 * point's expiry only moves later, unless a governance override (`breakGlass`) is recorded on it.
 */
export async function changeBackup(
  deps: Pick<Deps, 'store' | 'clock'>,
  pointId: string,
  change: BackupChange,
  breakGlass = false,
): Promise<Outcome<BackupPoint>> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
    const point = await deps.store.points.get(pointId);
    if (point === undefined) return notFound('backup', pointId);
    if (!LIVE.has(point.status))
      return conflict(`backup ${pointId} is ${point.status}; its expiry can no longer change`);
    const now = deps.clock.now();
    const next: BackupPoint = { ...point };
    if (change.lock !== undefined) {
      const locked = strengthenLock(point.lock, change.lock, now);
      if ('reason' in locked) return conflict(`backup ${pointId}: ${locked.reason}`, 'lock.mode');
      next.lock = locked.lock;
    }
    if (change.expireAt !== undefined) {
      const expireAt = change.expireAt;
      if (expireAt <= now) {
        return invalid([
          { path: 'expireAt', message: 'must be in the future; delete the backup to remove it now' },
        ]);
      }
      const decision = decideLock(next, { kind: 'shorten', expireAt }, now, breakGlass);
      if (!decision.allowed) return conflict(`backup ${pointId}: ${decision.reason}`, 'expireAt');
      if (decision.override && next.lock) {
        const override = { action: 'shorten' as const, at: now, from: point.expireAt, to: expireAt };
        next.lock = { ...next.lock, overrides: [...next.lock.overrides, override] };
      }
      next.expireAt = expireAt;
      next.effectiveExpireAt = Math.max(expireAt, point.longTermUntil ?? expireAt);
    }
    const written = await deps.store.points.update(next, point.version);
    if (written.ok) return ok(written.value);
    if (written.reason === 'not_found') return notFound('backup', pointId);
  }
  return conflict(`backup ${pointId} is being changed by another request; retry`);
}

/** The word an operator sends to delete the only good backup an instance has. */
export const CONFIRM_LAST_GOOD = 'last-good-backup';

/**
 * Deletes the point's snapshots; refused while a mount, restore or export uses the point, and, unless
 * confirmed, when it is the instance's only good backup: retention never deletes that one (keepLatest),
 * so a hand on the API should not do it without saying so.
 */
export async function deleteBackup(
  deps: Deps,
  pointId: string,
  reason: string,
  confirm?: typeof CONFIRM_LAST_GOOD,
  breakGlass = false,
): Promise<Outcome<BackupPoint>> {
  const point = await deps.store.points.get(pointId);
  if (point === undefined) return notFound('backup', pointId);
  if (point.status === 'DELETED') return ok(point);
  if (point.status === 'COPIES_ONLY') return conflict(copiesOnly(point));
  if (point.inUseBy.length > 0) {
    return conflict(
      `backup ${pointId} is in use by ${point.inUseBy.join(', ')}; finish or cancel those jobs first`,
    );
  }
  if (!point.ours)
    return conflict(`backup ${pointId} was not created by ecs-backup; its snapshots are left alone`);
  // Said before the last-good question: no confirmation would change a lock's answer.
  const locked = decideLock(point, { kind: 'delete' }, deps.clock.now(), breakGlass);
  if (!locked.allowed) return conflict(`backup ${pointId}: ${locked.reason}`);
  const lastGood = `backup ${pointId} is the only good backup of instance ${point.instanceId}: deleting it leaves nothing to restore from. To delete it anyway, send DELETE again with ?confirm=${CONFIRM_LAST_GOOD}`;
  const guarded = confirm !== CONFIRM_LAST_GOOD;
  // Checked before the claim, so a plain refusal writes nothing, and again after it (see refuse).
  if (guarded && point.status === 'AVAILABLE' && !(await anotherGoodBackup(deps, point))) {
    return conflict(lastGood);
  }
  const answer = await deleteBackupPoint(deps, pointId, reason, {
    breakGlass,
    ...(guarded ? { refuse: async (p) => ((await anotherGoodBackup(deps, p)) ? null : lastGood) } : {}),
  });
  if (!answer.ok && answer.locked === true) return conflict(`backup ${pointId}: ${answer.reason}`);
  if (!answer.ok && answer.refused === true) return conflict(answer.reason);
  // Past the checks above a refusal comes from ECS (a snapshot backing an image or a disk): the point
  // is then DELETE_FAILED with the reason, and retention tries again on its next sweep.
  if (!answer.ok) return conflict(`backup ${pointId} was not deleted: ${answer.reason}`);
  const after = await deps.store.points.get(pointId);
  return after === undefined ? notFound('backup', pointId) : ok(after);
}

/** Good = AVAILABLE: its job ended COMPLETE or PARTIAL_COMPLETE and nothing of it was deleted. */
async function anotherGoodBackup(deps: Pick<Deps, 'store'>, point: BackupPoint): Promise<boolean> {
  const good = await deps.store.points.list(
    { instanceId: point.instanceId, status: 'AVAILABLE' },
    { limit: 2 },
  );
  return good.items.some((p) => p.id !== point.id);
}
