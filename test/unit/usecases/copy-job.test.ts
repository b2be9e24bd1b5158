import { afterEach, describe, expect, it } from 'vitest';
import { requestCancel } from '../../../lib/usecases/cancel-job.js';
import { enforceCopyRetention } from '../../../lib/usecases/copy/copy-retention.js';
import { requestRestore } from '../../../lib/usecases/restore/requests.js';
import { sweepRecovery } from '../../../lib/usecases/mount/expiry.js';
import { backupWithCopy, DAY, OTHER } from './copy-fixtures.js';
import { finished, harness, jobOf, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('copy job', () => {
  it('copies every snapshot of a completed backup, tagged as ours, with its own expiry', async () => {
    h = harness();
    const { backup, pointId, copyId } = await backupWithCopy(h);
    const copy = await finished(h, copyId);

    expect(copy).toMatchObject({
      type: 'copy',
      status: 'COMPLETE',
      instanceId: backup.instanceId,
      progress: 100,
    });
    const point = (await h.deps.store.points.get(pointId))!;
    const other = h.ecs.forRegion(OTHER);
    expect(other.snapshots.size).toBe(point.snapshots.length);
    const [entry] = point.copies!;
    expect(entry).toMatchObject({ regionId: OTHER, jobId: copyId, status: 'available', reason: null });
    expect(entry!.snapshotIds).toEqual([...other.snapshots.keys()]);
    // Its own retention (90 days), counted from when the copy completed, not the backup's 7 days.
    expect(entry!.expireAt).toBe(copy.finishedAt! + 90 * DAY);
    expect(point.expireAt).toBeLessThan(entry!.expireAt);
    for (const [i, id] of entry!.snapshotIds.entries()) {
      const s = other.snapshots.get(id)!;
      expect(s.sourceDiskId).toBe(point.snapshots[i]!.diskId);
      expect(s.tags).toContainEqual({ key: 'ecs-backup:managed-by', value: 'ecs-backup' });
      expect(s.tags).toContainEqual({ key: 'ecs-backup:job', value: copyId });
    }
    expect(point.inUseBy).toEqual([]);
  });

  it('makes a failed copy again, within the bounded number of rounds', async () => {
    h = harness();
    const { pointId, point, copyId } = await backupWithCopy(h);
    h.ecs.failingCopies.set(point.snapshots[1]!.snapshotId, 1);

    const copy = await finished(h, copyId);

    expect(copy.status, copy.reason ?? '').toBe('COMPLETE');
    expect(h.ecs.calls.copySnapshot).toBe(point.snapshots.length + 1);
    const other = h.ecs.forRegion(OTHER);
    // The failed copy was deleted before it was made again: one copy per snapshot remains.
    expect(other.snapshots.size).toBe(point.snapshots.length);
    const entry = (await h.deps.store.points.get(pointId))!.copies![0]!;
    expect(entry.status).toBe('available');
    expect(new Set(entry.snapshotIds)).toEqual(new Set(other.snapshots.keys()));
  });

  it('fails after the last round, deletes its partial copies, marks the copy failed and keeps the backup', async () => {
    h = harness();
    h.ecs.describesToComplete = 2;
    const { backup, pointId, point, copyId } = await backupWithCopy(h);
    for (const s of point.snapshots) h.ecs.failingCopies.set(s.snapshotId, 3);

    const copy = await finished(h, copyId);

    expect(copy.status).toBe('FAILED');
    expect(copy.reason).toMatch(/copy to cn-other failed 3 times: s-copy\S+ failed at 30%/);
    expect(copy.reason).toMatch(/partial copies in cn-other deleted/);
    expect(h.ecs.calls.copySnapshot).toBe(3 * point.snapshots.length);
    expect(h.ecs.forRegion(OTHER).snapshots.size).toBe(0);
    const after = (await h.deps.store.points.get(pointId))!;
    expect(after.status).toBe('AVAILABLE');
    expect(after.snapshots).toEqual(point.snapshots);
    expect(after.inUseBy).toEqual([]);
    expect(after.copies).toEqual([
      expect.objectContaining({
        regionId: OTHER,
        status: 'failed',
        snapshotIds: [],
        reason: expect.stringMatching(/failed 3 times/),
      }),
    ]);
    expect((await jobOf(h, backup.id)).status).toBe('COMPLETE');
    for (const s of point.snapshots) expect(h.ecs.snapshots.has(s.snapshotId)).toBe(true);
  });

  it('a cancel while copying deletes the copies made so far in the target region', async () => {
    h = harness();
    const { pointId, copyId } = await backupWithCopy(h);
    h.ecs.forRegion(OTHER).describesToComplete = 1000;
    await h.drain({ until: async () => (await jobOf(h, copyId)).step === 'poll' });
    expect(h.ecs.forRegion(OTHER).snapshots.size).toBe(2);

    await requestCancel(h.deps, copyId);
    const copy = await finished(h, copyId);

    expect(copy.status).toBe('CANCELED');
    expect(h.ecs.forRegion(OTHER).snapshots.size).toBe(0);
    const point = (await h.deps.store.points.get(pointId))!;
    expect(point.copies?.[0]).toMatchObject({ status: 'failed' });
    expect(point.inUseBy).toEqual([]);
  });

  it('does not start when the backup is gone', async () => {
    h = harness();
    const { point, copyId } = await backupWithCopy(h);
    await h.deps.store.points.update({ ...point, status: 'DELETED' }, point.version);

    const copy = await finished(h, copyId);

    expect(copy.status).toBe('FAILED');
    expect(copy.reason).toMatch(/is DELETED: nothing to copy/);
    expect(h.ecs.calls.copySnapshot ?? 0).toBe(0);
  });

  it('retention deletes a copy in its region at its own expiry, not before, and never a foreign snapshot', async () => {
    h = harness();
    const { pointId, copyId } = await backupWithCopy(h);
    await finished(h, copyId);
    const entry = (await h.deps.store.points.get(pointId))!.copies![0]!;
    const other = h.ecs.forRegion(OTHER);

    const early = await enforceCopyRetention(h.deps, entry.expireAt - 1);
    expect(early).toEqual({ deleted: 0, failed: [] });
    expect(other.snapshots.size).toBe(2);

    // A copy whose tag was taken away behind our back is left alone and reported.
    other.snapshots.get(entry.snapshotIds[0]!)!.tags = [];
    const refused = await enforceCopyRetention(h.deps, entry.expireAt);
    expect(refused.failed).toEqual([
      { pointId, regionId: OTHER, reason: expect.stringMatching(/does not carry our tag/) },
    ]);
    expect(other.snapshots.size).toBe(2);
    expect((await h.deps.store.points.get(pointId))!.copies![0]!.status).toBe('delete_failed');

    other.snapshots.get(entry.snapshotIds[0]!)!.tags = [
      { key: 'ecs-backup:managed-by', value: 'ecs-backup' },
    ];
    const swept = await enforceCopyRetention(h.deps, entry.expireAt);
    expect(swept).toEqual({ deleted: 1, failed: [] });
    expect(other.snapshots.size).toBe(0);
    const point = (await h.deps.store.points.get(pointId))!;
    expect(point.copies![0]).toMatchObject({ status: 'deleted', reason: expect.stringMatching(/^expired /) });
    // The source backup is untouched by its copy's expiry.
    expect(point.status).toBe('AVAILABLE');
    expect(h.ecs.snapshots.size).toBe(2);
    expect(await enforceCopyRetention(h.deps, entry.expireAt + DAY)).toEqual({ deleted: 0, failed: [] });
  });

  it('restores a disk from the copy onto an instance of the copy region; refuses a region without a copy', async () => {
    h = harness();
    const { pointId, copyId } = await backupWithCopy(h);
    const point = (await h.deps.store.points.get(pointId))!;
    const other = h.ecs.forRegion(OTHER);
    const target = other.addInstance().instanceId;

    const before = await requestRestore(h.deps, pointId, {
      mode: 'clone-disk',
      diskId: point.snapshots[1]!.diskId,
      targetInstanceId: target,
      regionId: OTHER,
    });
    // The copy job has not run yet: no completed copy there.
    expect(before).toMatchObject({ ok: false, error: 'conflict', field: 'regionId' });
    await finished(h, copyId);
    const entry = (await h.deps.store.points.get(pointId))!.copies![0]!;

    const answer = await requestRestore(h.deps, pointId, {
      mode: 'clone-disk',
      diskId: point.snapshots[1]!.diskId,
      targetInstanceId: target,
      regionId: OTHER,
    });
    if (!answer.ok) throw new Error(JSON.stringify(answer));
    const done = await finished(h, answer.value.id);

    expect(done.status, done.reason ?? '').toBe('COMPLETE');
    const diskId = (done.state as { diskId: string }).diskId;
    expect(other.disks.get(diskId)).toMatchObject({
      instanceId: target,
      status: 'In_use',
      sourceSnapshotId: entry.snapshotIds[1],
    });
    expect(h.ecs.disks.has(diskId)).toBe(false);
    expect((await h.deps.store.points.get(pointId))!.inUseBy).toEqual([]);

    const elsewhere = await requestRestore(h.deps, pointId, {
      mode: 'clone-disk',
      diskId: point.snapshots[1]!.diskId,
      targetInstanceId: target,
      regionId: 'cn-elsewhere',
    });
    expect(elsewhere).toMatchObject({
      ok: false,
      error: 'conflict',
      detail: expect.stringMatching(/copies available in: cn-other/),
    });
  });

  it('a copy job dead-lettered with its copies made is cleaned up by the sweep of abandoned jobs', async () => {
    h = harness();
    const { pointId, copyId } = await backupWithCopy(h);
    const other = h.ecs.forRegion(OTHER);
    other.describesToComplete = 1000;
    await h.drain({ until: async () => (await jobOf(h, copyId)).step === 'poll' });
    // Every read in the target region breaks the worker: the job is dead-lettered, its clean-up too.
    other.failNext('describeSnapshots', new TypeError('worker bug'), 20);
    other.failNext('findSnapshotsByTag', new TypeError('worker bug'), 20);

    const done = await finished(h, copyId);
    expect(done.status).toBe('FAILED');
    expect(other.snapshots.size).toBe(2);
    expect((await h.deps.store.points.get(pointId))!.inUseBy).toEqual([copyId]);
    other.clearFailures();

    await sweepRecovery(h.deps, h.clock.now());

    expect(other.snapshots.size).toBe(0);
    const point = (await h.deps.store.points.get(pointId))!;
    expect(point.inUseBy).toEqual([]);
    expect(point.copies?.[0]).toMatchObject({ status: 'failed' });
    expect(point.status).toBe('AVAILABLE');
  });
});
