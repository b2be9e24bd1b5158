import { afterEach, describe, expect, it } from 'vitest';
import type { BackupPoint } from '../../../lib/domain/model.js';
import { ownershipTags } from '../../../lib/usecases/backup/ownership.js';
import { deleteBackupPoint } from '../../../lib/usecases/delete-point.js';
import { enforceRetention } from '../../../lib/usecases/retention.js';
import { harness, T0, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const DAY = 86_400_000;

/** A point whose snapshot group exists in the fake ECS with our tags (or not). */
async function addPoint(
  instanceId: string,
  completedAt: number,
  expireInDays: number,
  extra: Partial<BackupPoint> & { tagged?: boolean } = {},
): Promise<BackupPoint> {
  const diskId = h.ecs.addDisk(instanceId);
  const tags =
    extra.tagged === false ? [] : ownershipTags({ id: `job-${completedAt}`, planId: null, instanceId });
  const groupId = await h.ecs.createSnapshotGroup({
    instanceId,
    diskIds: [diskId],
    name: 'g',
    tags,
    clientToken: `tok-${completedAt}-${Math.random()}`,
  });
  h.ecs.completeAll();
  const group = h.ecs.groups.get(groupId)!;
  const { tagged: _tagged, ...fields } = extra;
  const expireAt = completedAt + expireInDays * DAY;
  const point: BackupPoint = {
    id: `bk-${instanceId}-${completedAt}`,
    instanceId,
    planId: null,
    jobId: `job-${completedAt}`,
    kind: 'group',
    snapshotGroupId: groupId,
    snapshots: group.snapshots.map((s) => ({
      diskId,
      snapshotId: s.snapshotId,
      diskType: 'data',
      category: 'cloud_essd',
      sizeGiB: 40,
    })),
    consistency: { requested: 'crash', achieved: 'crash', reason: null, freezeWindowMs: null },
    createdAt: completedAt - 1000,
    completedAt,
    expireAt,
    longTermUntil: null,
    longTermRule: null,
    effectiveExpireAt: expireAt,
    status: 'AVAILABLE',
    ours: true,
    inUseBy: [],
    lastError: null,
    version: 1,
    ...fields,
  };
  const written = await h.deps.store.points.create(point);
  if (!written.ok) throw new Error('point not created');
  return written.value;
}

const status = async (p: BackupPoint) => (await h.deps.store.points.get(p.id))!.status;

describe('retention', () => {
  it('deletes expired points and their snapshot groups, keeping the latest good one and long-term ones', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const old1 = await addPoint(instanceId, T0 - 30 * DAY, 7);
    const monthly = await addPoint(instanceId, T0 - 29 * DAY, 7, {
      longTermUntil: T0 + 300 * DAY,
      longTermRule: 'month',
      effectiveExpireAt: T0 + 300 * DAY,
    });
    const old2 = await addPoint(instanceId, T0 - 20 * DAY, 7);
    const latest = await addPoint(instanceId, T0 - 10 * DAY, 7);

    const report = await enforceRetention(h.deps, T0);

    expect(await status(old1)).toBe('DELETED');
    expect(await status(old2)).toBe('DELETED');
    expect(await status(monthly)).toBe('AVAILABLE');
    // Expired too, but it is the newest good backup of the instance.
    expect(await status(latest)).toBe('AVAILABLE');
    expect(h.ecs.groups.has(old1.snapshotGroupId!)).toBe(false);
    expect(h.ecs.groups.has(latest.snapshotGroupId!)).toBe(true);
    expect(report).toMatchObject({ deleted: 2, failed: [] });
  });

  it('lets the latest point go when the plan opts out of keep-latest', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const plan = {
      id: 'plan-optout1',
      name: 'p',
      instanceId,
      disks: 'all' as const,
      retention: { value: 1, unit: 'days' as const },
      longTerm: [],
      consistency: {
        applicationConsistent: false,
        fsFreeze: true,
        windowsWriters: true,
        timeoutSeconds: 30,
        onPreScriptFailure: 'continue' as const,
        onAgentUnavailable: 'continue' as const,
      },
      timeZone: 'UTC',
      keepLatest: false,
      state: 'ACTIVE' as const,
      nextRunAt: null,
      createdAt: T0,
      updatedAt: T0,
      version: 1,
    };
    await h.deps.store.plans.create(plan);
    await h.deps.store.instances.create({
      instanceId,
      disks: 'all',
      planId: plan.id,
      createdAt: T0,
      updatedAt: T0,
      version: 1,
    });
    const only = await addPoint(instanceId, T0 - 10 * DAY, 1);

    await enforceRetention(h.deps, T0);

    expect(await status(only)).toBe('DELETED');
  });

  it('records a failed delete and goes on with the sweep', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const inImage = await addPoint(instanceId, T0 - 30 * DAY, 7);
    const other = await addPoint(instanceId, T0 - 25 * DAY, 7);
    await addPoint(instanceId, T0 - DAY, 7);
    h.ecs.usedByImage.add(inImage.snapshots[0]!.snapshotId);

    const report = await enforceRetention(h.deps, T0);

    const failed = (await h.deps.store.points.get(inImage.id))!;
    expect(failed.status).toBe('DELETE_FAILED');
    expect(failed.lastError).toContain('SnapshotCreatedImage');
    expect(await status(other)).toBe('DELETED');
    expect(report.failed.map((f) => f.pointId)).toEqual([inImage.id]);
    // The next sweep tries the failed one again and succeeds once the image is gone.
    h.ecs.usedByImage.clear();
    await enforceRetention(h.deps, T0 + 3_600_000);
    expect(await status(inImage)).toBe('DELETED');
  });

  it('never deletes a point that is not ours, nor a group without our tag', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const foreign = await addPoint(instanceId, T0 - 30 * DAY, 7, { ours: false });
    const untagged = await addPoint(instanceId, T0 - 29 * DAY, 7, { tagged: false });
    await addPoint(instanceId, T0 - DAY, 7);

    await enforceRetention(h.deps, T0);

    expect(await status(foreign)).toBe('AVAILABLE');
    expect(h.ecs.groups.has(foreign.snapshotGroupId!)).toBe(true);
    const refused = (await h.deps.store.points.get(untagged.id))!;
    expect(refused.status).toBe('DELETE_FAILED');
    expect(refused.lastError).toContain('managed-by');
    expect(h.ecs.groups.has(untagged.snapshotGroupId!)).toBe(true);
  });

  it('reads only what expired: a large store of live points costs no more reads', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    for (let i = 0; i < 50; i += 1) await addPoint(instanceId, T0 - i * 3_600_000, 365);
    const expired = await addPoint('i-other0001', T0 - 40 * DAY, 7);
    await addPoint('i-other0001', T0 - DAY, 7);
    const describes = h.ecs.calls.describeSnapshotGroups ?? 0;

    const report = await enforceRetention(h.deps, T0);

    expect(report.examined).toBe(1);
    expect(await status(expired)).toBe('DELETED');
    expect((h.ecs.calls.describeSnapshotGroups ?? 0) - describes).toBe(1);
  });

  it('refuses to delete a point in use, with the reason', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const used = await addPoint(instanceId, T0 - DAY, 7, { inUseBy: ['job-mount1'] });

    const result = await deleteBackupPoint(h.deps, used.id, 'operator');

    expect(result).toEqual({ ok: false, reason: expect.stringContaining('job-mount1') });
    expect(await status(used)).toBe('AVAILABLE');
  });

  it('scoped to one instance (after a backup) leaves other instances alone', async () => {
    h = harness();
    const a = h.ecs.addInstance().instanceId;
    const b = h.ecs.addInstance().instanceId;
    const oldA = await addPoint(a, T0 - 30 * DAY, 7);
    await addPoint(a, T0 - DAY, 7);
    const oldB = await addPoint(b, T0 - 30 * DAY, 7);
    await addPoint(b, T0 - DAY, 7);

    await enforceRetention(h.deps, T0, { instanceId: a });

    expect(await status(oldA)).toBe('DELETED');
    expect(await status(oldB)).toBe('AVAILABLE');
  });
});
