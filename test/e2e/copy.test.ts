import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyJobId } from '../../lib/usecases/copy/state.js';
import {
  addLinuxInstance,
  E2E_TIMEOUT_MS,
  finished,
  planBody,
  startTestCloud,
  until,
  type TestCloud,
} from './support.js';
import { backupCopiedTo, cloneDiskFromCopy, filesIn } from './copy-support.js';

/**
 * Copies to another region on the local cloud (the emulator serves cn-hangzhou and cn-shanghai, each
 * with its own inventory): a plan with a copy, the backup and its copy complete, a disk cloned from
 * the copy onto an instance in cn-shanghai holds the backed-up bytes, and retention deletes the copy
 * at its own expiry. Bad copy settings are refused naming the field and change nothing.
 */

const SH = 'cn-shanghai';
const TARGET = 'i-shtarget0001';
const DAY = 86_400_000;

let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud({ timers: false });
  await cloud.emulator.admin.inRegion(SH).addInstance({
    instanceId: TARGET,
    disks: [
      { diskId: 'd-shtarget0001', type: 'system', category: 'cloud_essd', files: { 'etc/hostname': 'sh\n' } },
    ],
  });
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await cloud?.dispose();
});

type Copy = {
  regionId: string;
  status: string;
  snapshotIds: string[];
  expireAt: string | null;
  jobId: string;
};

describe('copy to another region', { timeout: E2E_TIMEOUT_MS }, () => {
  it('copies a backup to cn-shanghai, restores a disk from the copy there, and expires the copy on its own', async () => {
    const {
      dataDiskId: data,
      backup,
      point,
    } = await backupCopiedTo(cloud, SH, { path: 'srv/orders.csv', content: 'id,total\n7,99\n' });

    const copyJob = await finished(cloud, copyJobId(backup.id, SH));
    expect(copyJob).toMatchObject({ type: 'copy', status: 'COMPLETE', progress: 100 });
    const shown = await cloud.api.get<{ copies: Copy[]; status: string }>(`/backups/${point.id}`);
    const [copy] = shown.body.copies;
    expect(copy).toMatchObject({ regionId: SH, status: 'available', jobId: copyJob.id });
    expect(copy!.snapshotIds).toHaveLength(point.snapshots.length);
    // Its own retention, counted from when the copy completed (the job's last step).
    const copyExpiry = Date.parse(copy!.expireAt!) - 30 * DAY;
    expect(copyExpiry).toBeGreaterThan(backup.finishedAt!);
    expect(copyExpiry).toBeLessThanOrEqual(copyJob.finishedAt!);
    // Each copy holds its source snapshot's tree, byte for byte.
    for (const [i, s] of point.snapshots.entries()) {
      expect(await filesIn(cloud, SH, { snapshotId: copy!.snapshotIds[i]! })).toEqual(
        await filesIn(cloud, 'cn-hangzhou', { snapshotId: s.snapshotId }),
      );
    }

    const newDisk = await cloneDiskFromCopy(cloud, point.id, data, TARGET, SH);
    const sh = cloud.deps.ecs.forRegion(SH);
    const [disk] = await sh.describeDisks([newDisk]);
    expect(disk).toMatchObject({ instanceId: TARGET, status: 'In_use' });
    expect(disk!.zoneId.startsWith(`${SH}-`)).toBe(true);
    expect(await cloud.deps.ecs.describeDisks([newDisk])).toEqual([]);
    const dataSnapshot = point.snapshots.find((s) => s.diskId === data)!.snapshotId;
    const restoredFiles = await filesIn(cloud, SH, { diskId: newDisk });
    expect(restoredFiles).toEqual(await filesIn(cloud, 'cn-hangzhou', { snapshotId: dataSnapshot }));
    expect(restoredFiles).toContainEqual(expect.objectContaining({ path: 'srv/orders.csv', size: 14 }));

    // A rollback from a copy is refused: ECS cannot roll a disk back from a copy.
    const rollback = await cloud.api.post(`/backups/${point.id}/restore`, {
      mode: 'rollback-disk',
      diskId: data,
      regionId: SH,
    });
    expect(rollback.status).toBe(400);
    expect((rollback.body.errors as { path: string }[]).map((e) => e.path)).toEqual(['regionId']);

    // Retention: nothing before the copy's own expiry; at it, the copy goes and the backup stays.
    await sh.detachDisk(newDisk, TARGET);
    await until(
      'the cloned disk detached',
      async () => (await sh.describeDisks([newDisk]))[0]?.status === 'Available',
    );
    await sh.deleteDisk(newDisk);
    const expiry = Date.parse(copy!.expireAt!);
    await cloud.runRetention(expiry - 60_000);
    expect((await sh.describeSnapshots(copy!.snapshotIds)).length).toBe(point.snapshots.length);
    await cloud.runRetention(expiry + 1);
    expect(await sh.describeSnapshots(copy!.snapshotIds)).toEqual([]);
    const after = await cloud.api.get<{ copies: Copy[]; status: string }>(`/backups/${point.id}`);
    expect(after.body.copies[0]).toMatchObject({ regionId: SH, status: 'deleted' });
    expect(after.body.status).toBe('AVAILABLE');
    expect((await cloud.deps.ecs.describeSnapshots(point.snapshots.map((s) => s.snapshotId))).length).toBe(
      point.snapshots.length,
    );
  });

  it('refuses an unknown region, the own region, more than 3 and duplicates, naming the field, changing nothing', async () => {
    const { instanceId } = await addLinuxInstance(cloud);
    const retention = { value: 1, unit: 'months' };
    const cases: [unknown[], string][] = [
      [[{ regionId: 'cn-nowhere', retention }], 'plan.copies[0].regionId'],
      [[{ regionId: 'cn-hangzhou', retention }], 'plan.copies[0].regionId'],
      [
        ['cn-shanghai', 'cn-beijing', 'cn-shenzhen', 'us-east-1'].map((regionId) => ({
          regionId,
          retention,
        })),
        'plan.copies',
      ],
      [
        [
          { regionId: SH, retention },
          { regionId: SH, retention },
        ],
        'plan.copies[1].regionId',
      ],
    ];
    const jobsBefore = (await cloud.deps.store.jobs.list({}, { limit: 1000 })).items.length;
    for (const [copies, field] of cases) {
      const answer = await cloud.api.post('/protected-instances', {
        instanceId,
        disks: 'all',
        plan: planBody({ copies }),
      });
      expect(answer.status).toBe(400);
      expect((answer.body.errors as { path: string }[]).map((e) => e.path)).toEqual([field]);
    }
    expect(await cloud.deps.store.instances.get(instanceId)).toBeUndefined();
    expect((await cloud.deps.store.plans.list({ instanceId })).items).toEqual([]);
    expect((await cloud.deps.store.jobs.list({}, { limit: 1000 })).items.length).toBe(jobsBefore);
  });
});
