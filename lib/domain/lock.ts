import { z } from 'zod';

/**
 * Backup lock (write-once retention). A locked backup keeps its snapshots and its expiry until that
 * expiry: no route, no retention sweep and no job may delete it or move its expiry earlier; moving it
 * later is allowed. `compliance` has no way around it. `governance` lets an operator who holds the
 * separately configured break-glass token, and says so in an explicit header, delete or shorten it;
 * every such override is written on the backup. A lock is never taken off a backup, and its mode can
 * only get stricter (governance to compliance).
 */

export const LOCK_MODES = ['compliance', 'governance'] as const;
export type LockMode = (typeof LOCK_MODES)[number];

/** What a plan or a one-off backup asks for. */
export interface LockRequest {
  mode: LockMode;
}

export interface LockOverride {
  action: 'delete' | 'shorten';
  at: number;
  /** For `shorten`: the expiry before and after. */
  from?: number;
  to?: number;
}

/** The lock as stored on a backup point. */
export interface BackupLock {
  mode: LockMode;
  lockedAt: number;
  overrides: LockOverride[];
}

export const lockRequestSchema = z.strictObject({
  mode: z.enum(LOCK_MODES, { error: 'must be compliance or governance' }),
});

/** The header that asks for a governance override; its value is the break-glass token. */
export const BREAK_GLASS_HEADER = 'x-ecs-backup-break-glass';

export type LockAction = { kind: 'delete' } | { kind: 'shorten'; expireAt: number };

/** The facts of a point the rule reads. */
export interface LockedFacts {
  lock?: BackupLock | null;
  expireAt: number;
  effectiveExpireAt: number;
}

export type LockDecision =
  { allowed: true; override: boolean } | { allowed: false; reason: string; field: string | null };

/**
 * Whether `action` may go ahead on a point at `now`. The lock holds while `now` is before the point's
 * effective expiry (the date retention compares with), so a long-term keep extends it too.
 * `breakGlass` = a governance override was asked for with the right token.
 */
export function decideLock(
  point: LockedFacts,
  action: LockAction,
  now: number,
  breakGlass: boolean,
): LockDecision {
  const lock = point.lock;
  if (!lock) return { allowed: true, override: false };
  if (action.kind === 'shorten' && action.expireAt >= point.expireAt)
    return { allowed: true, override: false };
  if (action.kind === 'delete' && now >= point.effectiveExpireAt) return { allowed: true, override: false };
  const until = new Date(action.kind === 'delete' ? point.effectiveExpireAt : point.expireAt).toISOString();
  const what =
    action.kind === 'delete'
      ? `cannot be deleted before ${until}`
      : `cannot have its expiry moved earlier than ${until}`;
  if (lock.mode === 'compliance') {
    return {
      allowed: false,
      reason: `backup is locked in compliance mode: it ${what}; compliance locks have no override`,
      field: action.kind === 'shorten' ? 'expireAt' : null,
    };
  }
  if (breakGlass) return { allowed: true, override: true };
  return {
    allowed: false,
    reason: `backup is locked in governance mode: it ${what} unless the break-glass token is sent in the ${BREAK_GLASS_HEADER} header`,
    field: action.kind === 'shorten' ? 'expireAt' : null,
  };
}

/** A new lock on a point, or the existing one made stricter; never weaker, never removed. */
export function strengthenLock(
  current: BackupLock | null | undefined,
  wanted: LockRequest,
  now: number,
): { lock: BackupLock } | { reason: string } {
  if (!current) return { lock: { mode: wanted.mode, lockedAt: now, overrides: [] } };
  if (current.mode === wanted.mode) return { lock: current };
  if (current.mode === 'compliance') return { reason: 'a compliance lock cannot be changed to governance' };
  return { lock: { ...current, mode: 'compliance' } };
}
