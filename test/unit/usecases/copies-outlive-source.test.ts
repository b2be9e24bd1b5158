import { afterEach, describe, expect, it } from 'vitest';
import { enforceCopyRetention } from '../../../lib/usecases/copy/copy-retention.js';
import { deleteBackup, getBackup, listBackups } from '../../../lib/usecases/management/backups.js';
import { requestRestore } from '../../../lib/usecases/restore/requests.js';
import { enforceRetention } from '../../../lib/usecases/retention.js';
import { copiedBackup, OTHER, DAY } from './copy-fixtures.js';
import { finished, harness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('a copy outlives its source', () => {
  it('source expired: the point is COPIES_ONLY, listed and restorable from the copy, then DELETED with its last copy', async () => {
    h = harness();
    const { instanceId, point, copy } = await copiedBackup(h);
    expect(copy).toMatchObject({ status: 'available', regionId: OTHER });

    const swept = await enforceRetention(h.deps, point.effectiveExpireAt);
    expect(swept.deleted).toBe(1);
    const after = (await h.deps.store.points.get(point.id))!;
    expect(after.status).toBe('COPIES_ONLY');
    // The source's own snapshots are gone; the copy's are not.
    for (const s of point.snapshots) expect(h.ecs.snapshots.has(s.snapshotId)).toBe(false);
    const other = h.ecs.forRegion(OTHER);
    for (const id of copy.snapshotIds) expect(other.snapshots.has(id)).toBe(true);
    // GET and the list show it.
    expect(await getBackup(h.deps, point.id)).toMatchObject({ ok: true, value: { status: 'COPIES_ONLY' } });
    const listed = await listBackups(h.deps, { instanceId }, {});
    expect(listed.items.find((p) => p.id === point.id)?.status).toBe('COPIES_ONLY');
    // A second retention sweep leaves it alone; a DELETE on request is refused with the reason.
    expect((await enforceRetention(h.deps, point.effectiveExpireAt + DAY)).deleted).toBe(0);
    expect(await deleteBackup(h.deps, point.id, 'by hand')).toMatchObject({
      ok: false,
      error: 'conflict',
      detail: expect.stringMatching(/only its copies left \(in cn-other\)/),
    });

    // Restore from the copy still works; from the source region it is refused.
    const target = other.addInstance().instanceId;
    const disk = point.snapshots[1]!.diskId;
    const fromSource = await requestRestore(h.deps, point.id, {
      mode: 'clone-disk',
      diskId: disk,
      targetInstanceId: h.ecs.addInstance().instanceId,
    });
    expect(fromSource).toMatchObject({
      ok: false,
      error: 'conflict',
      detail: expect.stringMatching(/COPIES_ONLY/),
    });
    const answer = await requestRestore(h.deps, point.id, {
      mode: 'clone-disk',
      diskId: disk,
      targetInstanceId: target,
      regionId: OTHER,
    });
    if (!answer.ok) throw new Error(JSON.stringify(answer));
    const restored = await finished(h, answer.value.id);
    expect(restored.status, restored.reason ?? '').toBe('COMPLETE');
    const diskId = (restored.state as { diskId: string }).diskId;
    expect(other.disks.get(diskId)).toMatchObject({
      instanceId: target,
      sourceSnapshotId: copy.snapshotIds[1],
    });
    expect((await h.deps.store.points.get(point.id))!.inUseBy).toEqual([]);

    // The copy's own expiry deletes it, and with it the point.
    expect(await enforceCopyRetention(h.deps, copy.expireAt - 1)).toEqual({ deleted: 0, failed: [] });
    expect(await enforceCopyRetention(h.deps, copy.expireAt)).toEqual({ deleted: 1, failed: [] });
    for (const id of copy.snapshotIds) expect(other.snapshots.has(id)).toBe(false);
    const gone = (await h.deps.store.points.get(point.id))!;
    expect(gone.status).toBe('DELETED');
    expect(gone.copies![0]).toMatchObject({ status: 'deleted' });
    expect((await h.deps.store.copyExpiries.due(copy.expireAt + 365 * DAY, 10)).items).toEqual([]);
  });

  it('a copy being read by a restore is not deleted at its expiry until the restore lets go', async () => {
    h = harness();
    const { point, copy } = await copiedBackup(h);
    await enforceRetention(h.deps, point.effectiveExpireAt);
    const holder = 'job-restore-holding';
    const held = (await h.deps.store.points.get(point.id))!;
    await h.deps.store.points.update({ ...held, inUseBy: [holder] }, held.version);

    expect(await enforceCopyRetention(h.deps, copy.expireAt)).toEqual({ deleted: 0, failed: [] });
    expect((await h.deps.store.points.get(point.id))!.status).toBe('COPIES_ONLY');

    const busy = (await h.deps.store.points.get(point.id))!;
    await h.deps.store.points.update({ ...busy, inUseBy: [] }, busy.version);
    expect(await enforceCopyRetention(h.deps, copy.expireAt)).toEqual({ deleted: 1, failed: [] });
    expect((await h.deps.store.points.get(point.id))!.status).toBe('DELETED');
  });

  it('a point without a present copy is DELETED as before', async () => {
    h = harness();
    const { point } = await copiedBackup(h);
    const p = (await h.deps.store.points.get(point.id))!;
    await h.deps.store.points.update(
      { ...p, copies: p.copies!.map((c) => ({ ...c, status: 'failed' as const, snapshotIds: [] })) },
      p.version,
    );
    await enforceRetention(h.deps, point.effectiveExpireAt);
    expect((await h.deps.store.points.get(point.id))!.status).toBe('DELETED');
  });
});
