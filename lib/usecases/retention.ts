import type { BackupPoint } from '../domain/model.js';
import { selectExpired } from '../domain/retention.js';
import type { Deps } from './deps.js';
import { deleteBackupPoint } from './delete-point.js';
import { checkLockDrift, type LockDrift } from './lock-drift.js';
import { backupExpiredRaiser } from './notify/backup-events.js';

export interface RetentionReport {
  examined: number;
  deleted: number;
  failed: { pointId: string; reason: string }[];
  kept: number;
  /** True when the time budget ran out before the sweep finished; the next sweep continues. */
  truncated: boolean;
  /** Locked backups whose snapshots are gone or untagged in ECS (with `checkLockDrift`; lib/usecases/lock-drift.ts). */
  lockDrift: LockDrift[];
  /** Exports whose files expired and were deleted (the full sweep only). */
  exportsDeleted?: number;
  /** Images and instances clone jobs left behind, removed (the full sweep only). */
  cloneOrphans?: { imagesDeleted: string[]; instancesReleased: string[]; left: string[] };
  verifyOrphans?: { detached: string[]; deleted: string[] };
  /** Copies in other regions deleted at their own expiry (the full sweep only; copy/copy-retention.ts). */
  copies?: { deleted: number; failed: { pointId: string; regionId: string; reason: string }[] };
}

export interface RetentionOptions {
  /** Only this instance's points (run after each completed backup of it). */
  instanceId?: string;
  /** Points read per page. */
  pageSize?: number;
  /** Stop starting new deletions after this long (a function has a timeout). */
  budgetMs?: number;
  /**
   * Also look for drift of locked backups (full sweeps only). Off unless asked: the check reads every
   * locked backup still under its lock and asks ECS about its snapshots; the timer sweep asks.
   */
  checkLockDrift?: boolean;
}

const LIVE: BackupPoint['status'][] = ['AVAILABLE', 'DELETING', 'DELETE_FAILED'];

/**
 * Deletes the points whose effective expiry has passed (design §3). The sweep reads only expired
 * points (plus, per instance concerned, its newest good point for the keep-latest guard), so its cost
 * grows with what expires, not with what is stored. A failed delete is recorded on its point and the
 * sweep goes on.
 */
export async function enforceRetention(
  deps: Deps,
  now: number,
  options: RetentionOptions = {},
): Promise<RetentionReport> {
  const report: RetentionReport = {
    examined: 0,
    deleted: 0,
    failed: [],
    kept: 0,
    truncated: false,
    lockDrift: [],
  };
  const started = deps.clock.now();
  const budgetMs = options.budgetMs ?? Number.POSITIVE_INFINITY;
  const pageSize = options.pageSize ?? 500;
  const keeps = new Map<string, KeepRules>();
  if (options.instanceId) {
    const points = await instancePoints(deps, options.instanceId);
    await sweep(deps, now, keeps, report, points);
    return report;
  }
  // DELETING points are deletions a crash interrupted; there are normally none.
  const interrupted = await deps.store.points.list({ status: 'DELETING' }, { limit: pageSize, order: 'asc' });
  const expiredInterrupted = interrupted.items.filter((p) => p.effectiveExpireAt <= now);
  if (expiredInterrupted.length > 0) {
    await sweep(deps, now, keeps, report, await withLatest(deps, expiredInterrupted));
  }
  let cursor: string | undefined;
  do {
    if (deps.clock.now() - started > budgetMs) {
      report.truncated = true;
      break;
    }
    const page = await deps.store.points.expired(now, pageSize, cursor);
    cursor = page.cursor;
    if (page.items.length === 0) break;
    await sweep(deps, now, keeps, report, await withLatest(deps, page.items));
  } while (cursor);
  if (options.checkLockDrift === true && !report.truncated) {
    const spent = deps.clock.now() - started;
    const drift = await checkLockDrift(deps, now, { pageSize, budgetMs: budgetMs - spent });
    report.lockDrift = drift.drift;
    report.truncated = drift.truncated;
  }
  return report;
}

/** Expired points plus each concerned instance's newest good point, which the keep-latest guard needs. */
async function withLatest(deps: Deps, expired: BackupPoint[]): Promise<BackupPoint[]> {
  const byId = new Map(expired.map((p) => [p.id, p]));
  const instances = [...new Set(expired.map((p) => p.instanceId))];
  const newest = await Promise.all(instances.map((instanceId) => newestAvailable(deps, instanceId)));
  for (const p of newest) if (p && !byId.has(p.id)) byId.set(p.id, p);
  return [...byId.values()];
}

/**
 * The instance's newest AVAILABLE point. Asked by instance alone (newest first) rather than by
 * instance and status: the store serves that from its per-instance index whatever the planner
 * thinks of the status index, and the newest points are nearly always the available ones.
 */
async function newestAvailable(deps: Deps, instanceId: string): Promise<BackupPoint | undefined> {
  let cursor: string | undefined;
  do {
    const page = await deps.store.points.list({ instanceId }, { limit: 20, cursor, order: 'desc' });
    const found = page.items.find((p) => p.status === 'AVAILABLE');
    if (found) return found;
    cursor = page.cursor;
  } while (cursor);
  return undefined;
}

/**
 * The points plus, per instance whose plan verifies, its newest point that passed: the guard must
 * see the real newest, not the newest among the expired. Read newest first until one is found.
 */
async function withNewestVerified(
  deps: Deps,
  points: BackupPoint[],
  instanceIds: string[],
): Promise<BackupPoint[]> {
  const byId = new Map(points.map((p) => [p.id, p]));
  for (const instanceId of instanceIds) {
    let cursor: string | undefined;
    do {
      const page = await deps.store.points.list({ instanceId }, { limit: 50, cursor, order: 'desc' });
      const found = page.items.find((p) => p.status === 'AVAILABLE' && p.verification?.status === 'passed');
      if (found) {
        if (!byId.has(found.id)) byId.set(found.id, found);
        break;
      }
      cursor = page.cursor;
    } while (cursor);
  }
  return [...byId.values()];
}

async function instancePoints(deps: Deps, instanceId: string): Promise<BackupPoint[]> {
  const out: BackupPoint[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.points.list(
      { instanceId, status: LIVE },
      { limit: 1000, cursor, order: 'asc' },
    );
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return out;
}

/** What the plan bound to an instance keeps besides unexpired points. */
interface KeepRules {
  latest: boolean;
  /** The plan verifies its backups: its newest passed verification is kept. */
  verified: boolean;
}

/** The plan bound to the instance decides what is kept; without one the safe answer is to keep the latest. */
async function resolveKeepRules(
  deps: Deps,
  instanceIds: string[],
  cache: Map<string, KeepRules>,
): Promise<void> {
  const unknown = instanceIds.filter((id) => !cache.has(id));
  if (unknown.length === 0) return;
  const protectedInstances = await deps.store.instances.getMany(unknown);
  const planIds = protectedInstances.flatMap((p) => (p.planId ? [p.planId] : []));
  const plans = planIds.length > 0 ? await deps.store.plans.getMany(planIds) : [];
  const planById = new Map(plans.map((p) => [p.id, p]));
  const instanceById = new Map(protectedInstances.map((p) => [p.instanceId, p]));
  for (const id of unknown) {
    const planId = instanceById.get(id)?.planId;
    const plan = planId ? planById.get(planId) : undefined;
    cache.set(id, { latest: plan?.keepLatest ?? true, verified: plan?.verify !== undefined });
  }
}

async function sweep(
  deps: Deps,
  now: number,
  keeps: Map<string, KeepRules>,
  report: RetentionReport,
  given: BackupPoint[],
): Promise<void> {
  const instances = [...new Set(given.map((p) => p.instanceId))];
  await resolveKeepRules(deps, instances, keeps);
  const points = await withNewestVerified(
    deps,
    given,
    instances.filter((id) => keeps.get(id)?.verified),
  );
  const chosen = selectExpired(points, now, {
    keepLatest: (id) => keeps.get(id)?.latest ?? true,
    keepVerified: (id) => keeps.get(id)?.verified ?? false,
  });
  const expiredCount = points.filter((p) => p.effectiveExpireAt <= now).length;
  report.examined += expiredCount;
  report.kept += expiredCount - chosen.length;
  const queue = [...chosen];
  const raiseExpired = await backupExpiredRaiser(deps, chosen.length);
  const workers = Array.from(
    { length: Math.min(deps.settings.RETENTION_CONCURRENCY, queue.length) },
    async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        // Raised before the deletion so a crash cannot lose it; a retried sweep raises the same event.
        await raiseExpired(item.point, item.reason);
        const result = await deleteBackupPoint(deps, item.point.id, item.reason);
        if (result.ok) report.deleted += 1;
        else report.failed.push({ pointId: item.point.id, reason: result.reason });
      }
    },
  );
  await Promise.all(workers);
}
