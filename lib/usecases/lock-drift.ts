import type { BackupPoint } from '../domain/model.js';
import type { EcsSnapshot, EcsSnapshotGroup } from '../ports/ecs.js';
import { createHash } from 'node:crypto';
import type { Deps } from './deps.js';
import { isOurs } from './backup/ownership.js';
import { raiseBackupEvent } from './notify/backup-events.js';

export interface LockDrift {
  pointId: string;
  problems: string[];
}

export interface LockDriftReport {
  /** Locked points whose snapshots were looked at. */
  checked: number;
  drift: LockDrift[];
  /** True when the time budget ran out; the next sweep starts over. */
  truncated: boolean;
}

/**
 * A lock binds this tool only: anyone with ECS rights can still delete a locked backup's snapshots or
 * strip their tags (which also takes them out of reach of the RAM deny policy in the README). So each
 * retention sweep looks at every locked backup still under its lock and reports the ones whose
 * snapshots are gone or no longer carry our managed-by tag. It only reports: the point keeps its
 * record, which is the evidence of what was there. It reads locked points only, through their own
 * range of the expiry index (`store.points.locked`), so its cost grows with the locked backups, not
 * with every backup stored.
 */
export async function checkLockDrift(
  deps: Deps,
  now: number,
  options: { pageSize?: number; budgetMs?: number } = {},
): Promise<LockDriftReport> {
  const report: LockDriftReport = { checked: 0, drift: [], truncated: false };
  const started = deps.clock.now();
  const budgetMs = options.budgetMs ?? Number.POSITIVE_INFINITY;
  let cursor: string | undefined;
  do {
    if (deps.clock.now() - started > budgetMs) {
      report.truncated = true;
      break;
    }
    const page = await deps.store.points.locked(now, options.pageSize ?? 500, cursor);
    cursor = page.cursor;
    const locked = page.items;
    report.checked += locked.length;
    for (const { point, problems } of await driftOf(deps, locked)) {
      report.drift.push({ pointId: point.id, problems });
      deps.log.warn('locked backup drifted in ECS', { pointId: point.id, problems });
      // The same problems found by the next sweep are the same event; a new problem is a new one.
      const fact = createHash('sha256').update(problems.join('\n')).digest('hex').slice(0, 16);
      await raiseBackupEvent(deps, 'backup.lock-drift', point, fact, { problems });
    }
  } while (cursor);
  return report;
}

async function driftOf(
  deps: Pick<Deps, 'ecs'>,
  points: BackupPoint[],
): Promise<{ point: BackupPoint; problems: string[] }[]> {
  if (points.length === 0) return [];
  // Asked in slices ECS accepts (100 snapshot ids, 10 group ids a call) whatever the adapter does.
  const snapshotIds = points.flatMap((p) => p.snapshots.map((s) => s.snapshotId));
  const seen = new Map<string, EcsSnapshot>();
  for (const ids of slices(snapshotIds, 100))
    for (const s of await deps.ecs.describeSnapshots(ids)) seen.set(s.snapshotId, s);
  const groupIds = points.flatMap((p) => (p.snapshotGroupId ? [p.snapshotGroupId] : []));
  const groups = new Map<string, EcsSnapshotGroup>();
  for (const ids of slices(groupIds, 10))
    for (const g of await deps.ecs.describeSnapshotGroups(ids)) groups.set(g.snapshotGroupId, g);
  const out: { point: BackupPoint; problems: string[] }[] = [];
  for (const point of points) {
    const problems: string[] = [];
    if (point.snapshotGroupId) {
      const group = groups.get(point.snapshotGroupId);
      if (!group) problems.push(`snapshot group ${point.snapshotGroupId} is gone`);
      else if (!isOurs(group.tags))
        problems.push(`snapshot group ${point.snapshotGroupId} lost its managed-by tag`);
    }
    for (const entry of point.snapshots) {
      const snap = seen.get(entry.snapshotId);
      if (!snap) problems.push(`snapshot ${entry.snapshotId} is gone`);
      // A group's member snapshots need not carry the group's tags: for a group, its own tag is what counts.
      else if (!point.snapshotGroupId && !isOurs(snap.tags))
        problems.push(`snapshot ${entry.snapshotId} lost its managed-by tag`);
    }
    if (problems.length > 0) out.push({ point, problems });
  }
  return out;
}

function slices<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
