import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPresent, type PointCopy } from '../../../lib/domain/copies.js';
import type { BackupPoint } from '../../../lib/domain/model.js';
import { ownershipTags } from '../../../lib/usecases/backup/ownership.js';
import { enforceCopyRetention } from '../../../lib/usecases/copy/copy-retention.js';
import { indexCopyExpiry } from '../../../lib/usecases/copy/point-copies.js';
import { CONFIRM_LAST_GOOD, deleteBackup } from '../../../lib/usecases/management/backups.js';
import { checkRestore } from '../../../lib/usecases/restore/check.js';
import { enforceRetention } from '../../../lib/usecases/retention.js';
import { aPoint } from '../domain/builders.js';
import { harness, type Harness } from './harness.js';

/**
 * For random backups with copies (some failed), clock moves, deletes, backup retention and copy
 * retention: a copy is never deleted before its own expiry, whatever happens to its source; a backup
 * whose own snapshots are gone is COPIES_ONLY exactly while a copy of it is present, then DELETED;
 * and a restore from the copy is accepted exactly while the copy is there to read.
 */

const DAY = 86_400_000;
const OTHER = 'cn-other';
const POINTS = 4;

interface Seeded {
  id: string;
  copy: PointCopy;
}

async function addPoint(hh: Harness, instanceId: string, n: number, days: number, copyDays: number | null) {
  const diskId = hh.ecs.addDisk(instanceId);
  const jobId = `job-${n}`;
  const tags = ownershipTags({ id: jobId, planId: null, instanceId });
  const groupId = await hh.ecs.createSnapshotGroup({
    instanceId,
    diskIds: [diskId],
    name: 'g',
    tags,
    clientToken: `tok-${n}`,
  });
  hh.ecs.completeAll();
  const group = hh.ecs.groups.get(groupId)!;
  const other = hh.ecs.forRegion(OTHER);
  const copyIds = group.snapshots.map((s) => `s-copy-${s.snapshotId}`);
  for (const [i, s] of group.snapshots.entries())
    other.snapshots.set(copyIds[i]!, { ...s, snapshotId: copyIds[i]!, tags });
  const now = hh.clock.now();
  const copy: PointCopy = {
    regionId: OTHER,
    jobId: `${jobId}.copy.${OTHER}`,
    snapshotIds: copyDays === null ? [] : copyIds,
    status: copyDays === null ? 'failed' : 'available',
    expireAt: copyDays === null ? 0 : now + copyDays * DAY,
    reason: null,
  };
  if (copyDays === null) for (const id of copyIds) other.snapshots.delete(id);
  const point: BackupPoint = {
    ...aPoint(`bk-${n}`)
      .of(instanceId)
      .completedAt(now - DAY + n)
      .expiring(now + days * DAY)
      .build(),
    planId: null,
    jobId,
    snapshotGroupId: groupId,
    snapshots: group.snapshots.map((s) => ({
      diskId,
      snapshotId: s.snapshotId,
      diskType: 'data',
      category: 'cloud_essd',
      sizeGiB: 40,
    })),
    copies: [copy],
  };
  if (copyDays !== null) await indexCopyExpiry(hh.deps, point.id, OTHER, copy.expireAt);
  const written = await hh.deps.store.points.create(point);
  if (!written.ok) throw new Error('point not created');
  return { id: point.id, copy };
}

type Command =
  | { kind: 'advance'; days: number }
  | { kind: 'delete'; point: number }
  | { kind: 'retention' }
  | { kind: 'copy-retention' };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), days: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), point: fc.integer({ min: 0, max: POINTS - 1 }) }),
  fc.record({ kind: fc.constant('retention' as const) }),
  fc.record({ kind: fc.constant('copy-retention' as const) }),
);

describe('copies outlive their source, for random sequences', () => {
  it('a copy is never deleted early, COPIES_ONLY holds exactly while a copy is present, and restores follow', async () => {
    const reached = { copiesOnly: 0, restoredFromCopiesOnly: 0, finallyDeleted: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: POINTS, maxLength: POINTS }),
        fc.array(fc.option(fc.integer({ min: 1, max: 40 }), { freq: 4 }), {
          minLength: POINTS,
          maxLength: POINTS,
        }),
        fc.array(command, { minLength: 1, maxLength: 20 }),
        async (expiries, copyExpiries, commands) => {
          const hh = harness();
          try {
            const { instanceId } = hh.ecs.addInstance();
            const other = hh.ecs.forRegion(OTHER);
            const target = other.addInstance().instanceId;
            const seeded: Seeded[] = [];
            for (let i = 0; i < POINTS; i += 1)
              seeded.push(await addPoint(hh, instanceId, i, expiries[i]!, copyExpiries[i] ?? null));
            const wasCopiesOnly = new Set<string>();
            for (const c of commands) {
              if (c.kind === 'advance') hh.clock.advance(c.days * DAY + 1);
              if (c.kind === 'delete')
                await deleteBackup(hh.deps, seeded[c.point]!.id, 'test', CONFIRM_LAST_GOOD);
              if (c.kind === 'retention') await enforceRetention(hh.deps, hh.clock.now());
              if (c.kind === 'copy-retention') await enforceCopyRetention(hh.deps, hh.clock.now());
              const now = hh.clock.now();
              for (const s of seeded) {
                const point = (await hh.deps.store.points.get(s.id))!;
                const copy = point.copies![0]!;
                const copyThere =
                  s.copy.snapshotIds.length > 0 && s.copy.snapshotIds.every((id) => other.snapshots.has(id));
                // Never deleted before its own expiry, whatever happened to the source.
                if (s.copy.status === 'available' && now < s.copy.expireAt) expect(copyThere).toBe(true);
                if (!copyThere) expect(isPresent(copy)).toBe(false);
                const sourceThere = hh.ecs.groups.has(point.snapshotGroupId!);
                if (point.status === 'COPIES_ONLY') {
                  reached.copiesOnly += 1;
                  wasCopiesOnly.add(point.id);
                  expect(sourceThere).toBe(false);
                  expect(isPresent(copy)).toBe(true);
                }
                if (point.status === 'DELETED') {
                  expect(sourceThere).toBe(false);
                  expect(isPresent(copy)).toBe(false);
                  if (wasCopiesOnly.has(point.id)) reached.finallyDeleted += 1;
                }
                if (point.status === 'AVAILABLE') expect(sourceThere).toBe(true);
                const restore = await checkRestore(
                  hh.deps,
                  {
                    backupId: point.id,
                    mode: 'clone-disk',
                    diskId: point.snapshots[0]!.diskId,
                    targetInstanceId: target,
                    stopInstance: false,
                    regionId: OTHER,
                  },
                  { requireStopped: false },
                );
                const readable =
                  (point.status === 'AVAILABLE' || point.status === 'COPIES_ONLY') &&
                  copy.status === 'available';
                expect(restore.ok).toBe(readable);
                if (restore.ok && point.status === 'COPIES_ONLY') reached.restoredFromCopiesOnly += 1;
              }
            }
          } finally {
            await hh.close();
          }
        },
      ),
      { numRuns: 60, seed: 1313 },
    );
    // Each state the checks are about was reached.
    expect(reached.copiesOnly).toBeGreaterThan(0);
    expect(reached.restoredFromCopiesOnly).toBeGreaterThan(0);
    expect(reached.finallyDeleted).toBeGreaterThan(0);
  }, 120_000);
});
