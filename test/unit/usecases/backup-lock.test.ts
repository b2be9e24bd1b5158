import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackupLock, LockMode } from '../../../lib/domain/lock.js';
import type { BackupPoint } from '../../../lib/domain/model.js';
import { createdSnapshots } from '../../../lib/usecases/backup/cancel-backup.js';
import { ownershipTags } from '../../../lib/usecases/backup/ownership.js';
import { jobContext } from '../../../lib/usecases/jobs/job-context.js';
import { deleteBackupPoint } from '../../../lib/usecases/delete-point.js';
import { changeBackup, CONFIRM_LAST_GOOD, deleteBackup } from '../../../lib/usecases/management/backups.js';
import { createSubscription } from '../../../lib/usecases/notify/subscriptions.js';
import { enforceRetention } from '../../../lib/usecases/retention.js';
import { aPoint } from '../domain/builders.js';
import { harness, jobOf, startBackup, type Harness } from './harness.js';

const DAY = 86_400_000;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A point whose snapshot group exists in the fake ECS with our tags. */
async function addPoint(
  hh: Harness,
  instanceId: string,
  n: number,
  expireInDays: number,
  lock: LockMode | null,
): Promise<BackupPoint> {
  const diskId = hh.ecs.addDisk(instanceId);
  const jobId = `job-${n}`;
  const groupId = await hh.ecs.createSnapshotGroup({
    instanceId,
    diskIds: [diskId],
    name: 'g',
    tags: ownershipTags({ id: jobId, planId: null, instanceId }),
    clientToken: `tok-${n}`,
  });
  hh.ecs.completeAll();
  const group = hh.ecs.groups.get(groupId)!;
  const completedAt = hh.clock.now() - DAY + n;
  const point: BackupPoint = {
    ...aPoint(`bk-${n}`)
      .of(instanceId)
      .completedAt(completedAt)
      .expiring(hh.clock.now() + expireInDays * DAY)
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
    ...(lock ? { lock: { mode: lock, lockedAt: completedAt, overrides: [] } } : {}),
  };
  const written = await hh.deps.store.points.create(point);
  if (!written.ok) throw new Error('point not created');
  return written.value;
}

type Command =
  | { kind: 'advance'; days: number }
  | { kind: 'delete'; point: number; confirm: boolean; breakGlass: boolean }
  | { kind: 'expire'; point: number; days: number; breakGlass: boolean }
  | { kind: 'lock'; point: number; mode: LockMode }
  | { kind: 'retention' }
  | { kind: 'cleanup'; point: number };

const POINTS = 5;
const pointIndex = fc.integer({ min: 0, max: POINTS - 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), days: fc.integer({ min: 0, max: 15 }) }),
  fc.record({
    kind: fc.constant('delete' as const),
    point: pointIndex,
    confirm: fc.boolean(),
    breakGlass: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('expire' as const),
    point: pointIndex,
    days: fc.integer({ min: -5, max: 30 }),
    breakGlass: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('lock' as const),
    point: pointIndex,
    mode: fc.constantFrom<LockMode>('compliance', 'governance'),
  }),
  fc.record({ kind: fc.constant('retention' as const) }),
  fc.record({ kind: fc.constant('cleanup' as const), point: pointIndex }),
);

async function run(hh: Harness, ids: string[], c: Command): Promise<void> {
  const now = hh.clock.now();
  switch (c.kind) {
    case 'advance':
      hh.clock.advance(c.days * DAY + 1);
      return;
    case 'delete':
      await deleteBackup(
        hh.deps,
        ids[c.point]!,
        'test',
        c.confirm ? CONFIRM_LAST_GOOD : undefined,
        c.breakGlass,
      );
      return;
    case 'expire':
      await changeBackup(hh.deps, ids[c.point]!, { expireAt: now + c.days * DAY + 1 }, c.breakGlass);
      return;
    case 'lock':
      await changeBackup(hh.deps, ids[c.point]!, { lock: { mode: c.mode } });
      return;
    case 'retention':
      await enforceRetention(hh.deps, now);
      return;
    case 'cleanup':
      // A job's cleanup deletes through the same path and has no override.
      await deleteBackupPoint(hh.deps, ids[c.point]!, 'job cleanup');
      return;
  }
}

const overrides = (lock: BackupLock | undefined, action: 'delete' | 'shorten') =>
  (lock?.overrides ?? []).filter((o) => o.action === action).length;

describe('backup lock, random API calls, sweeps and clock moves', () => {
  it('never deletes or shortens a locked backup before its expiry without a recorded override', async () => {
    let reached = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<LockMode | null>('compliance', 'governance', null), {
          minLength: POINTS,
          maxLength: POINTS,
        }),
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: POINTS, maxLength: POINTS }),
        fc.array(command, { minLength: 1, maxLength: 25 }),
        async (locks, expiries, commands) => {
          const hh = harness();
          try {
            const { instanceId } = hh.ecs.addInstance();
            const ids: string[] = [];
            for (let i = 0; i < POINTS; i += 1)
              ids.push((await addPoint(hh, instanceId, i, expiries[i]!, locks[i]!)).id);
            for (const c of commands) {
              const before = new Map((await hh.deps.store.points.getMany(ids)).map((p) => [p.id, p]));
              const now = hh.clock.now();
              await run(hh, ids, c);
              for (const after of await hh.deps.store.points.getMany(ids)) {
                const prev = before.get(after.id)!;
                // A lock is never removed, and compliance never turns back into governance.
                if (prev.lock) expect(after.lock).toBeDefined();
                if (prev.lock?.mode === 'compliance') expect(after.lock?.mode).toBe('compliance');
                if (!prev.lock || prev.status === 'DELETED' || prev.status === 'DELETING') continue;
                const gone = after.status === 'DELETED' || after.status === 'DELETING';
                if (gone && now < prev.effectiveExpireAt) {
                  reached += 1;
                  expect(prev.lock.mode).toBe('governance');
                  expect(overrides(after.lock, 'delete')).toBe(overrides(prev.lock, 'delete') + 1);
                }
                if (after.expireAt < prev.expireAt) {
                  expect(prev.lock.mode).toBe('governance');
                  expect(overrides(after.lock, 'shorten')).toBe(overrides(prev.lock, 'shorten') + 1);
                }
                // The snapshots of a locked backup stay in ECS while the record says it is there.
                if (after.status === 'AVAILABLE')
                  expect(hh.ecs.groups.has(after.snapshotGroupId!)).toBe(true);
              }
            }
          } finally {
            await hh.close();
          }
        },
      ),
      { numRuns: 60, seed: 1307 },
    );
    // The override path was exercised, so the checks inside it ran.
    expect(reached).toBeGreaterThan(0);
  }, 120_000);
});

describe('lock drift in the retention sweep', () => {
  it('reports a locked backup whose snapshot group was deleted or untagged behind our back, and only those', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const gone = await addPoint(h, instanceId, 1, 30, 'compliance');
    const untagged = await addPoint(h, instanceId, 2, 30, 'governance');
    const intact = await addPoint(h, instanceId, 3, 30, 'compliance');
    const unlocked = await addPoint(h, instanceId, 4, 30, null);
    h.ecs.groups.delete(gone.snapshotGroupId!);
    for (const s of gone.snapshots) h.ecs.snapshots.delete(s.snapshotId);
    h.ecs.groups.get(untagged.snapshotGroupId!)!.tags = [];
    h.ecs.groups.delete(unlocked.snapshotGroupId!);

    // The per-instance sweep after each backup does not pay for the check; the timer sweep asks for it.
    expect((await enforceRetention(h.deps, h.clock.now())).lockDrift).toEqual([]);
    const report = await enforceRetention(h.deps, h.clock.now(), { checkLockDrift: true });

    expect(report.lockDrift.map((d) => d.pointId).sort()).toEqual([gone.id, untagged.id]);
    expect(report.lockDrift.find((d) => d.pointId === gone.id)!.problems.join()).toMatch(/is gone/);
    expect(report.lockDrift.find((d) => d.pointId === untagged.id)!.problems.join()).toMatch(
      /lost its managed-by tag/,
    );
    // Reporting changes nothing: the records stay as evidence.
    expect((await h.deps.store.points.get(gone.id))!.status).toBe('AVAILABLE');
    expect((await h.deps.store.points.get(intact.id))!.status).toBe('AVAILABLE');
  });

  it('raises backup.lock-drift once per drifted backup and problem, not again on the next sweep', async () => {
    h = harness();
    const sub = await createSubscription(h.deps, {
      url: 'https://hooks.example.com/drift',
      events: ['backup.lock-drift'],
    });
    if (!sub.ok) throw new Error('subscription refused');
    const { instanceId } = h.ecs.addInstance();
    const gone = await addPoint(h, instanceId, 1, 30, 'compliance');
    await addPoint(h, instanceId, 2, 30, 'compliance');
    h.ecs.groups.delete(gone.snapshotGroupId!);

    await enforceRetention(h.deps, h.clock.now(), { checkLockDrift: true });
    await enforceRetention(h.deps, h.clock.now(), { checkLockDrift: true });

    const deliveries = (await h.deps.store.deliveries.list(sub.value.id)).items;
    expect(deliveries).toHaveLength(1);
    expect(JSON.stringify(deliveries[0])).toContain(gone.id);
  });
});

describe('a locked backup job', () => {
  it('writes the lock on its point, which can be deleted only once its expiry comes', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId, { lock: { mode: 'compliance' } });
    await h.drain();
    const job = await jobOf(h, started.id);
    expect(job.status).toBe('COMPLETE');
    const [point] = (await h.deps.store.points.list({ instanceId }, { limit: 10 })).items;
    expect(point!.lock).toEqual({ mode: 'compliance', lockedAt: point!.completedAt, overrides: [] });
    expect((await deleteBackupPoint(h.deps, point!.id, 'test')).ok).toBe(false);
    h.clock.set(point!.effectiveExpireAt);
    expect((await deleteBackupPoint(h.deps, point!.id, 'test')).ok).toBe(true);
  });

  it("keeps a recorded locked backup's snapshots when the job's clean-up runs after the record", async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId, { lock: { mode: 'governance' } });
    await h.drain();
    const job = await jobOf(h, started.id);
    const [point] = (await h.deps.store.points.list({ instanceId }, { limit: 10 })).items;

    // As after a crash past the record and a dead-lettered message: the engine releases what the job holds.
    const released = await createdSnapshots.release(jobContext(h.deps), job);

    expect(released).toEqual({ state: 'released', note: `backup ${point!.id} is locked and kept` });
    expect(h.ecs.groups.has(point!.snapshotGroupId!)).toBe(true);
    expect((await h.deps.store.points.get(point!.id))!.status).toBe('AVAILABLE');
  });
});
