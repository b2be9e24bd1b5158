/**
 * Retention and long-term rules, as pure functions of points and time.
 *
 * - Days and weeks are exact durations (n × 24 h); months and years are calendar units in the plan's
 *   time zone, same wall time, the day clamped to the target month (31 Jan + 1 month = 28/29 Feb,
 *   29 Feb + 1 year = 28 Feb).
 * - A long-term rule keeps the FIRST backup of each week (Sunday 00:00), month or year in the plan's
 *   time zone, as HBR does (restic keeps the last; we follow the product we model). When several rules
 *   keep a point, the longest keep wins.
 * - Retention never deletes a point that is not ours, is in use, has not expired, or is the newest
 *   good (AVAILABLE) backup of its instance while keepLatest is on, nor the newest verified (passed)
 *   one while the instance's plan verifies its backups.
 */
import { addDays, addMonths, wallTimeAt, wallTimeToEpoch, weekday } from './calendar.js';
import type { BackupPoint, BackupPointStatus, LongTermPeriod, LongTermRule, Retention } from './model.js';
import { DAY_MS, WEEK_MS, isoSeconds } from './time.js';
import { newestVerifiedByInstance } from './verification.js';

export function expireAt(completedAt: number, retention: Retention, timeZone: string): number {
  switch (retention.unit) {
    case 'days':
      return completedAt + retention.value * DAY_MS;
    case 'weeks':
      return completedAt + retention.value * WEEK_MS;
    case 'months':
      return wallTimeToEpoch(addMonths(wallTimeAt(completedAt, timeZone), retention.value), timeZone);
    case 'years':
      return wallTimeToEpoch(addMonths(wallTimeAt(completedAt, timeZone), retention.value * 12), timeZone);
  }
}

/** First instant of the week (Sunday 00:00), month or year containing t, in the zone. */
export function periodStart(t: number, period: LongTermPeriod, timeZone: string): number {
  const w = wallTimeAt(t, timeZone);
  const midnight = { ...w, hour: 0, minute: 0, second: 0, millisecond: 0 };
  switch (period) {
    case 'week':
      return wallTimeToEpoch(addDays(midnight, -weekday(w)), timeZone);
    case 'month':
      return wallTimeToEpoch({ ...midnight, day: 1 }, timeZone);
    case 'year':
      return wallTimeToEpoch({ ...midnight, month: 1, day: 1 }, timeZone);
  }
}

/**
 * The long-term keep of a point completed at `completedAt`, given the completion times of the
 * instance's earlier backups (whatever their status now, so a later delete does not promote another
 * point). A point completed at the same instant as an earlier one counts as first too: keeping both is
 * the safe side of a tie.
 */
export function longTermKeep(
  completedAt: number,
  earlierCompletedAts: number[],
  rules: LongTermRule[],
  timeZone: string,
): { until: number; rule: LongTermPeriod } | null {
  let best: { until: number; rule: LongTermPeriod } | null = null;
  for (const rule of rules) {
    const start = periodStart(completedAt, rule.period, timeZone);
    if (earlierCompletedAts.some((e) => e >= start && e < completedAt)) continue;
    const until = expireAt(completedAt, rule.keep, timeZone);
    if (best === null || until > best.until) best = { until, rule: rule.period };
  }
  return best;
}

export interface RetentionPolicy {
  retention: Retention;
  longTerm: LongTermRule[];
  timeZone: string;
  keepLatest: boolean;
  /** The plan verifies its backups: the newest one that passed is kept. */
  keepVerified?: boolean;
}

export interface PointExpiry {
  expireAt: number;
  longTermUntil: number | null;
  longTermRule: LongTermPeriod | null;
  effectiveExpireAt: number;
}

/** The expiry fields a point gets when it completes (design §3: fixed at completion). */
export function pointExpiry(
  completedAt: number,
  earlierCompletedAts: number[],
  policy: Pick<RetentionPolicy, 'retention' | 'longTerm' | 'timeZone'>,
): PointExpiry {
  const base = expireAt(completedAt, policy.retention, policy.timeZone);
  const keep = longTermKeep(completedAt, earlierCompletedAts, policy.longTerm, policy.timeZone);
  return {
    expireAt: base,
    longTermUntil: keep?.until ?? null,
    longTermRule: keep?.rule ?? null,
    effectiveExpireAt: Math.max(base, keep?.until ?? base),
  };
}

/** DELETING and DELETE_FAILED are picked again so an interrupted or refused delete is retried. */
const DELETABLE: ReadonlySet<BackupPointStatus> = new Set(['AVAILABLE', 'DELETING', 'DELETE_FAILED']);

function newerPoint(a: BackupPoint, b: BackupPoint): boolean {
  return a.completedAt !== b.completedAt ? a.completedAt > b.completedAt : a.id > b.id;
}

/** The newest AVAILABLE point per instance; ties broken by id so the answer ignores input order. */
export function latestAvailableByInstance(points: readonly BackupPoint[]): Map<string, BackupPoint> {
  const latest = new Map<string, BackupPoint>();
  for (const p of points) {
    if (p.status !== 'AVAILABLE') continue;
    const current = latest.get(p.instanceId);
    if (current === undefined || newerPoint(p, current)) latest.set(p.instanceId, p);
  }
  return latest;
}

export interface SelectExpiredOptions {
  keepLatest: boolean | ((instanceId: string) => boolean);
  /** Instances whose plan verifies its backups: the newest one that passed is kept (verification.ts). */
  keepVerified?: (instanceId: string) => boolean;
}

/**
 * Points retention may delete now, oldest expiry first (ties by id), each with its reason. Pass every
 * live point of the instances concerned, not only expired ones: the newest-point guard needs them.
 */
export function selectExpired(
  points: readonly BackupPoint[],
  now: number,
  options: SelectExpiredOptions,
): { point: BackupPoint; reason: string }[] {
  const keepLatest = options.keepLatest;
  const keepsLatest = typeof keepLatest === 'function' ? keepLatest : () => keepLatest;
  const latest = latestAvailableByInstance(points);
  const keepsVerified = options.keepVerified ?? (() => false);
  const verified = newestVerifiedByInstance(points);
  return points
    .filter(
      (p) =>
        p.ours === true &&
        DELETABLE.has(p.status) &&
        p.effectiveExpireAt <= now &&
        p.inUseBy.length === 0 &&
        !(keepsLatest(p.instanceId) && latest.get(p.instanceId) === p) &&
        !(keepsVerified(p.instanceId) && verified.get(p.instanceId) === p),
    )
    .sort((a, b) => a.effectiveExpireAt - b.effectiveExpireAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((point) => ({ point, reason: expiredReason(point) }));
}

function expiredReason(p: BackupPoint): string {
  const which = p.longTermRule === null ? 'retention' : `long-term ${p.longTermRule} keep`;
  const retry = p.status === 'AVAILABLE' ? '' : ` (retrying, point is ${p.status})`;
  return `${which} ended at ${isoSeconds(p.effectiveExpireAt)}${retry}`;
}

export function describeRetention(r: Retention): string {
  return `${r.value} ${r.value === 1 ? r.unit.slice(0, -1) : r.unit}`;
}

/** The largest value < t in an ascending list, or null. */
function latestBefore(sorted: readonly number[], t: number): number | null {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? null : (sorted[lo - 1] as number);
}

export interface PreviewRow {
  pointId: string;
  decision: 'keep' | 'delete';
  reason: string;
  /** The effective expiry the policy gives the point. */
  expireAt: number;
}

/**
 * What a policy would keep and delete among the given points at `now`, recomputing every point's
 * expiry from the policy (the stored expiries reflect the policy each point completed under).
 */
export function preview(policy: RetentionPolicy, points: readonly BackupPoint[], now: number): PreviewRow[] {
  // Sorted completion times per instance: the latest earlier completion alone decides whether a point
  // is first of its period, so each point needs one binary search instead of a scan.
  const completedByInstance = new Map<string, number[]>();
  for (const p of points) {
    if (p.status === 'CREATING') continue;
    const list = completedByInstance.get(p.instanceId) ?? [];
    list.push(p.completedAt);
    completedByInstance.set(p.instanceId, list);
  }
  for (const list of completedByInstance.values()) list.sort((a, b) => a - b);
  const recomputed = points.map((p) => {
    const previous = latestBefore(completedByInstance.get(p.instanceId) ?? [], p.completedAt);
    return { ...p, ...pointExpiry(p.completedAt, previous === null ? [] : [previous], policy) };
  });
  const keepVerified = () => policy.keepVerified === true;
  const expired = new Set(
    selectExpired(recomputed, now, { keepLatest: policy.keepLatest, keepVerified }).map((e) => e.point.id),
  );
  const newestGood = latestAvailableByInstance(recomputed);

  return recomputed.map((p) => {
    const row = (decision: PreviewRow['decision'], reason: string): PreviewRow => ({
      pointId: p.id,
      decision,
      reason,
      expireAt: p.effectiveExpireAt,
    });
    const kept =
      p.longTermRule === null
        ? `retention ${describeRetention(policy.retention)}`
        : `long-term rule: first backup of its ${p.longTermRule}`;
    if (p.status === 'DELETED') return row('delete', 'already deleted');
    if (expired.has(p.id)) return row('delete', `${kept} ended at ${isoSeconds(p.effectiveExpireAt)}`);
    if (!p.ours) return row('keep', 'not created by ecs-backup (no managed-by tag): never deleted');
    if (p.status === 'CREATING') return row('keep', 'still being created');
    if (p.effectiveExpireAt > now)
      return row('keep', `${kept} keeps it until ${isoSeconds(p.effectiveExpireAt)}`);
    if (p.inUseBy.length > 0) return row('keep', `expired but in use by ${p.inUseBy.join(', ')}`);
    // Every other reason to keep was ruled out above, so a newest-point guard is what held it.
    if (policy.keepLatest && newestGood.get(p.instanceId) === p) {
      return row('keep', 'expired but the newest good backup of the instance (keepLatest)');
    }
    return row('keep', 'expired but the newest verified backup of the instance (verify)');
  });
}
