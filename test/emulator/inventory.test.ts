import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ecs, REGION, ecsError, startHarness, waitFor, type Harness } from './helpers.js';

describe('ECS emulator: regions, instances, disks and tags through the official SDK', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ snapshotBaseMs: 0, snapshotSpeedBytesPerSec: 0 });
  });
  afterAll(async () => {
    await h.stop();
  });

  const diskStatus = async (diskId: string): Promise<string | undefined> => {
    const r = await h.ecs.describeDisks(
      new Ecs.DescribeDisksRequest({ regionId: REGION, diskIds: JSON.stringify([diskId]) }),
    );
    return r.body?.disks?.disk?.[0]?.status;
  };
  const instanceStatus = async (id: string): Promise<string | undefined> => {
    const r = await h.ecs.describeInstances(
      new Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: JSON.stringify([id]) }),
    );
    return r.body?.instances?.instance?.[0]?.status;
  };
  const until = (probe: () => Promise<string | undefined>, want: string): Promise<true> =>
    waitFor(async () => ((await probe()) === want ? true : undefined));
  /**
   * Runs `act` while transitions last an hour, so the transitional state it starts is still there
   * when the test looks, however slow the machine; `settle` then ends it.
   */
  const inTransition = async <T>(act: () => Promise<T>): Promise<T> => {
    await h.emu.admin.setAsyncOperationMs({ ms: 3_600_000 });
    try {
      return await act();
    } finally {
      await h.emu.admin.setAsyncOperationMs({ ms: 100 });
    }
  };
  const settle = () => h.emu.admin.completeOperations();

  it('describes the regions and the two zones of the default one', async () => {
    const regions = await h.ecs.describeRegions(new Ecs.DescribeRegionsRequest({}));
    const zones = await h.ecs.describeZones(new Ecs.DescribeZonesRequest({ regionId: REGION }));
    expect(regions.body?.regions?.region?.map((r) => r.regionId)).toEqual([REGION, 'cn-shanghai']);
    expect(zones.body?.zones?.zone?.map((z) => z.zoneId)).toEqual(['cn-hangzhou-h', 'cn-hangzhou-i']);
    const other = await ecsError(
      h.ecs.describeZones(new Ecs.DescribeZonesRequest({ regionId: 'eu-central-1' })),
    );
    expect(other).toMatchObject({ code: 'InvalidRegionId.NotFound', statusCode: 404 });
  });

  it('lists the demo instances with OS, zone and status, filtered and paged', async () => {
    const all = await h.ecs.describeInstances(
      new Ecs.DescribeInstancesRequest({ regionId: REGION, pageSize: 100 }),
    );
    const byId = new Map((all.body?.instances?.instance ?? []).map((i) => [i.instanceId, i]));
    expect(all.body?.totalCount).toBe(5);
    expect(byId.get('i-demowin01')).toMatchObject({
      OSType: 'windows',
      zoneId: 'cn-hangzhou-i',
      status: 'Running',
    });
    expect(byId.get('i-demobatch01')?.status).toBe('Stopped');

    const stopped = await h.ecs.describeInstances(
      new Ecs.DescribeInstancesRequest({ regionId: REGION, status: 'Stopped' }),
    );
    expect(stopped.body?.instances?.instance?.map((i) => i.instanceId)).toEqual(['i-demobatch01']);

    const tagged = await h.ecs.describeInstances(
      new Ecs.DescribeInstancesRequest({ regionId: REGION, tag: [{ key: 'app', value: 'db' }] }),
    );
    expect(tagged.body?.instances?.instance?.map((i) => i.instanceId)).toEqual(['i-demodb01']);

    const page = await h.ecs.describeInstances(
      new Ecs.DescribeInstancesRequest({ regionId: REGION, pageSize: 2, pageNumber: 3 }),
    );
    expect(page.body).toMatchObject({ totalCount: 5, pageNumber: 3, pageSize: 2 });
    expect(page.body?.instances?.instance).toHaveLength(1);

    const malformed = await ecsError(
      h.ecs.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: 'i-a' })),
    );
    expect(malformed.code).toBe('InvalidInstanceIds.Malformed');
    const tooMany = await ecsError(
      h.ecs.describeInstances(
        new Ecs.DescribeInstancesRequest({
          regionId: REGION,
          instanceIds: JSON.stringify(Array.from({ length: 101 }, (_, i) => `i-${i}`)),
        }),
      ),
    );
    expect(tooMany.code).toBe('InvalidInstanceIds.Malformed');
  });

  it('stops and starts instances through Stopping and Starting', async () => {
    await inTransition(() =>
      h.ecs.stopInstance(new Ecs.StopInstanceRequest({ instanceId: 'i-demolegacy01' })),
    );
    expect(await instanceStatus('i-demolegacy01')).toBe('Stopping');
    expect(await settle()).toBeGreaterThanOrEqual(1);
    await until(() => instanceStatus('i-demolegacy01'), 'Stopped');
    const again = await ecsError(
      h.ecs.stopInstance(new Ecs.StopInstanceRequest({ instanceId: 'i-demolegacy01' })),
    );
    expect(again).toMatchObject({ code: 'IncorrectInstanceStatus', statusCode: 403 });
    await h.ecs.startInstance(new Ecs.StartInstanceRequest({ instanceId: 'i-demolegacy01' }));
    await until(() => instanceStatus('i-demolegacy01'), 'Running');
    const reboot = await h.ecs.rebootInstance(
      new Ecs.RebootInstanceRequest({ instanceId: 'i-demolegacy01' }),
    );
    expect(reboot.body?.requestId).toBeTruthy();
    await until(() => instanceStatus('i-demolegacy01'), 'Running');
  });

  it('lists an instance system disk first with ECS fields, and filters by category and tag', async () => {
    const r = await h.ecs.describeDisks(
      new Ecs.DescribeDisksRequest({ regionId: REGION, instanceId: 'i-demoweb01' }),
    );
    const disks = r.body?.disks?.disk ?? [];
    expect(disks.map((d) => d.diskId)).toEqual(['d-demoweb01sys', 'd-demoweb01data']);
    expect(disks[0]).toMatchObject({
      type: 'system',
      category: 'cloud_essd',
      status: 'In_use',
      device: '/dev/xvda',
      size: 40,
      instanceId: 'i-demoweb01',
    });

    const eff = await h.ecs.describeDisks(
      new Ecs.DescribeDisksRequest({ regionId: REGION, category: 'cloud_efficiency' }),
    );
    expect(eff.body?.disks?.disk?.map((d) => d.diskId).sort()).toEqual([
      'd-demobatch01data',
      'd-demobatch01sys',
      'd-demolegacy01data',
    ]);

    await h.ecs.tagResources(
      new Ecs.TagResourcesRequest({
        regionId: REGION,
        resourceType: 'disk',
        resourceId: ['d-demodb01data'],
        tag: [{ key: 'tier', value: 'gold' }],
      }),
    );
    const gold = await h.ecs.describeDisks(
      new Ecs.DescribeDisksRequest({ regionId: REGION, tag: [{ key: 'tier', value: 'gold' }] }),
    );
    expect(gold.body?.disks?.disk?.map((d) => d.diskId)).toEqual(['d-demodb01data']);
    expect(gold.body?.disks?.disk?.[0]?.tags?.tag).toEqual([
      expect.objectContaining({ tagKey: 'tier', tagValue: 'gold' }),
    ]);
  });

  it('creates, attaches, detaches and deletes a disk through its transitional states', async () => {
    const created = await inTransition(() =>
      h.ecs.createDisk(
        new Ecs.CreateDiskRequest({
          regionId: REGION,
          zoneId: 'cn-hangzhou-h',
          diskCategory: 'cloud_essd',
          size: 20,
          diskName: 'scratch',
        }),
      ),
    );
    const diskId = created.body?.diskId as string;
    expect(await diskStatus(diskId)).toBe('Creating');
    await settle();
    await until(() => diskStatus(diskId), 'Available');

    const wrongZone = await ecsError(
      h.ecs.attachDisk(new Ecs.AttachDiskRequest({ diskId, instanceId: 'i-demowin01' })),
    );
    expect(wrongZone.code).toBe('InstanceDiskZoneMismatch');

    await inTransition(() =>
      h.ecs.attachDisk(new Ecs.AttachDiskRequest({ diskId, instanceId: 'i-demoweb01' })),
    );
    expect(await diskStatus(diskId)).toBe('Attaching');
    await settle();
    await until(() => diskStatus(diskId), 'In_use');
    const attached = await h.ecs.describeDisks(
      new Ecs.DescribeDisksRequest({ regionId: REGION, diskIds: JSON.stringify([diskId]) }),
    );
    expect(attached.body?.disks?.disk?.[0]).toMatchObject({ instanceId: 'i-demoweb01', device: '/dev/xvdc' });

    const inUse = await ecsError(h.ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId })));
    expect(inUse).toMatchObject({ code: 'IncorrectDiskStatus', statusCode: 403 });
    const systemDisk = await ecsError(
      h.ecs.detachDisk(new Ecs.DetachDiskRequest({ diskId: 'd-demoweb01sys', instanceId: 'i-demoweb01' })),
    );
    expect(systemDisk.code).toBe('IncorrectInstanceStatus');

    await inTransition(() =>
      h.ecs.detachDisk(new Ecs.DetachDiskRequest({ diskId, instanceId: 'i-demoweb01' })),
    );
    expect(await diskStatus(diskId)).toBe('Detaching');
    await settle();
    await until(() => diskStatus(diskId), 'Available');
    await h.ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId }));
    expect(await diskStatus(diskId)).toBeUndefined();
    const gone = await ecsError(h.ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId })));
    expect(gone).toMatchObject({ code: 'InvalidDiskId.NotFound', statusCode: 404 });
  });

  it('keeps a snapshot immutable: a disk created from it and a reset disk hold the old bytes', async () => {
    // Prepare
    await h.emu.admin.writeFile({
      diskId: 'd-demobatch01data',
      path: 'jobs/state.txt',
      content: 'version 1',
    });
    const snap = await h.ecs.createSnapshot(
      new Ecs.CreateSnapshotRequest({ diskId: 'd-demobatch01data', snapshotName: 'before-change' }),
    );
    const snapshotId = snap.body?.snapshotId as string;
    await h.emu.admin.writeFile({
      diskId: 'd-demobatch01data',
      path: 'jobs/state.txt',
      content: 'version 2',
    });
    await h.emu.admin.writeFile({
      diskId: 'd-demobatch01data',
      path: 'jobs/new.txt',
      content: 'added later',
    });

    // Act: clone
    const clone = await h.ecs.createDisk(
      new Ecs.CreateDiskRequest({
        regionId: REGION,
        zoneId: 'cn-hangzhou-i',
        snapshotId,
        diskCategory: 'cloud_essd',
      }),
    );
    const cloneId = clone.body?.diskId as string;
    await until(() => diskStatus(cloneId), 'Available');

    // Assess: clone and snapshot show version 1, the source disk version 2
    expect(await h.emu.admin.readFile({ snapshotId, path: 'jobs/state.txt' })).toBe('version 1');
    expect(await h.emu.admin.readFile({ diskId: cloneId, path: 'jobs/state.txt' })).toBe('version 1');
    expect((await h.emu.admin.listFiles({ diskId: cloneId })).map((f) => f.path)).not.toContain(
      'jobs/new.txt',
    );
    expect(await h.emu.admin.readFile({ diskId: 'd-demobatch01data', path: 'jobs/state.txt' })).toBe(
      'version 2',
    );
    const cloned = await h.ecs.describeDisks(
      new Ecs.DescribeDisksRequest({ regionId: REGION, diskIds: JSON.stringify([cloneId]) }),
    );
    expect(cloned.body?.disks?.disk?.[0]).toMatchObject({ sourceSnapshotId: snapshotId, size: 100 });

    // A snapshot a disk was created from needs Force to go.
    const used = await ecsError(h.ecs.deleteSnapshot(new Ecs.DeleteSnapshotRequest({ snapshotId })));
    expect(used.code).toBe('SnapshotCreatedDisk');

    // Act: roll back the source disk (its instance is stopped)
    await inTransition(() =>
      h.ecs.resetDisk(new Ecs.ResetDiskRequest({ diskId: 'd-demobatch01data', snapshotId })),
    );
    expect(await diskStatus('d-demobatch01data')).toBe('ReIniting');
    await settle();
    await until(() => diskStatus('d-demobatch01data'), 'In_use');
    expect(await h.emu.admin.readFile({ diskId: 'd-demobatch01data', path: 'jobs/state.txt' })).toBe(
      'version 1',
    );
    expect((await h.emu.admin.listFiles({ diskId: 'd-demobatch01data' })).map((f) => f.path)).not.toContain(
      'jobs/new.txt',
    );

    await h.ecs.deleteSnapshot(new Ecs.DeleteSnapshotRequest({ snapshotId, force: true }));
  });

  it('refuses ResetDisk on a running instance or with a snapshot of another disk; ResetDisks checks all pairs', async () => {
    const s = await h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: 'd-demoweb01data' }));
    const running = await ecsError(
      h.ecs.resetDisk(
        new Ecs.ResetDiskRequest({ diskId: 'd-demoweb01data', snapshotId: s.body?.snapshotId }),
      ),
    );
    expect(running).toMatchObject({ code: 'IncorrectInstanceStatus', statusCode: 403 });
    const other = await ecsError(
      h.ecs.resetDisk(new Ecs.ResetDiskRequest({ diskId: 'd-demoweb01sys', snapshotId: s.body?.snapshotId })),
    );
    expect(other.code).toBe('InvalidSnapshotId.NotBelongToDisk');

    const a = await h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: 'd-demobatch01sys' }));
    const b = await h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: 'd-demobatch01data' }));
    const dry = await ecsError(
      h.ecs.resetDisks(
        new Ecs.ResetDisksRequest({
          regionId: REGION,
          dryRun: true,
          disk: [
            { diskId: 'd-demobatch01sys', snapshotId: a.body?.snapshotId },
            { diskId: 'd-demobatch01data', snapshotId: b.body?.snapshotId },
          ],
        }),
      ),
    );
    expect(dry.code).toBe('DryRunOperation');
    const done = await h.ecs.resetDisks(
      new Ecs.ResetDisksRequest({
        regionId: REGION,
        disk: [
          { diskId: 'd-demobatch01sys', snapshotId: a.body?.snapshotId },
          { diskId: 'd-demobatch01data', snapshotId: b.body?.snapshotId },
        ],
      }),
    );
    expect(done.body?.operationProgressSet?.operationProgress?.map((o) => o.operationStatus)).toEqual([
      'Success',
      'Success',
    ]);
  });

  it('tags, lists and untags resources', async () => {
    const s = await h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: 'd-demodb01sys' }));
    const id = s.body?.snapshotId as string;
    await h.ecs.tagResources(
      new Ecs.TagResourcesRequest({
        regionId: REGION,
        resourceType: 'snapshot',
        resourceId: [id],
        tag: [
          { key: 'ecs-backup:managed-by', value: 'ecs-backup' },
          { key: 'ecs-backup:job', value: 'job-tags' },
        ],
      }),
    );
    const listed = await h.ecs.listTagResources(
      new Ecs.ListTagResourcesRequest({
        regionId: REGION,
        resourceType: 'snapshot',
        tag: [{ key: 'ecs-backup:job', value: 'job-tags' }],
      }),
    );
    const rows = listed.body?.tagResources?.tagResource ?? [];
    expect(rows.map((r) => `${r.resourceId}:${r.tagKey}=${r.tagValue}`).sort()).toEqual([
      `${id}:ecs-backup:job=job-tags`,
      `${id}:ecs-backup:managed-by=ecs-backup`,
    ]);
    const found = await h.ecs.describeSnapshots(
      new Ecs.DescribeSnapshotsRequest({
        regionId: REGION,
        tag: [{ key: 'ecs-backup:job', value: 'job-tags' }],
      }),
    );
    expect(found.body?.snapshots?.snapshot?.map((x) => x.snapshotId)).toEqual([id]);

    await h.ecs.untagResources(
      new Ecs.UntagResourcesRequest({
        regionId: REGION,
        resourceType: 'snapshot',
        resourceId: [id],
        tagKey: ['ecs-backup:job'],
      }),
    );
    const after = await h.ecs.describeSnapshots(
      new Ecs.DescribeSnapshotsRequest({
        regionId: REGION,
        tag: [{ key: 'ecs-backup:job', value: 'job-tags' }],
      }),
    );
    expect(after.body?.totalCount).toBe(0);

    const missing = await ecsError(
      h.ecs.tagResources(
        new Ecs.TagResourcesRequest({
          regionId: REGION,
          resourceType: 'snapshot',
          resourceId: ['s-nope'],
          tag: [{ key: 'a', value: 'b' }],
        }),
      ),
    );
    expect(missing).toMatchObject({ code: 'InvalidResourceId.NotFound', statusCode: 404 });
    const reserved = await ecsError(
      h.ecs.tagResources(
        new Ecs.TagResourcesRequest({
          regionId: REGION,
          resourceType: 'snapshot',
          resourceId: [id],
          tag: [{ key: 'acs:x', value: 'b' }],
        }),
      ),
    );
    expect(reserved.code).toBe('InvalidTagKey.Malformed');
  });
});

describe('ECS emulator: state across restarts', () => {
  it('keeps snapshots, disks and files in the data folder; reset wipes them', async () => {
    // Prepare
    const first = await startHarness({ snapshotBaseMs: 0, snapshotSpeedBytesPerSec: 0 });
    const dataDir = first.dataDir;
    try {
      const s = await first.ecs.createSnapshot(
        new Ecs.CreateSnapshotRequest({ diskId: 'd-demoweb01data', tag: [{ key: 'k', value: 'v' }] }),
      );
      await first.emu.admin.writeFile({ diskId: 'd-demoweb01data', path: 'persist.txt', content: 'kept' });
      await first.emu.close();

      // Act
      const second = await startHarness({ dataDir });
      const again = await second.ecs.describeSnapshots(
        new Ecs.DescribeSnapshotsRequest({ regionId: REGION, tag: [{ key: 'k', value: 'v' }] }),
      );
      const file = await second.emu.admin.readFile({ diskId: 'd-demoweb01data', path: 'persist.txt' });
      await second.emu.close();
      const third = await startHarness({ dataDir, reset: true });
      const wiped = await third.ecs.describeSnapshots(new Ecs.DescribeSnapshotsRequest({ regionId: REGION }));
      await third.stop();

      // Assess
      expect(again.body?.snapshots?.snapshot?.map((x) => x.snapshotId)).toEqual([s.body?.snapshotId]);
      expect(file).toBe('kept');
      expect(wiped.body?.totalCount).toBe(0);
    } finally {
      // The harnesses were handed this folder, so none of them removes it.
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('ECS emulator: admin inventory and time control', () => {
  it('bulk-seeds a synthetic inventory the API lists, and advances snapshot progress', async () => {
    const h = await startHarness({ snapshotBaseMs: 100_000, snapshotSpeedBytesPerSec: 0 });
    try {
      // Prepare
      const seeded = await h.emu.admin.bulkSeed({
        instances: 20,
        disksPerInstance: 2,
        snapshots: 100,
        tags: { bulk: 'yes' },
      });

      // Act
      const groups = await h.ecs.describeSnapshotGroups(
        new Ecs.DescribeSnapshotGroupsRequest({
          regionId: REGION,
          instanceId: seeded.instanceIds[0],
          maxResults: 100,
        }),
      );
      const tagged = await h.ecs.describeSnapshots(
        new Ecs.DescribeSnapshotsRequest({
          regionId: REGION,
          tag: [{ key: 'bulk', value: 'yes' }],
          pageSize: 1,
        }),
      );
      const s = await h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: 'd-demoweb01sys' }));
      await h.emu.admin.advanceSnapshots({ ms: 50_000 });
      const half = await h.ecs.describeSnapshots(
        new Ecs.DescribeSnapshotsRequest({
          regionId: REGION,
          snapshotIds: JSON.stringify([s.body?.snapshotId]),
        }),
      );

      // Assess
      expect(seeded.snapshotIds).toHaveLength(100);
      expect(seeded.snapshotGroupIds).toHaveLength(50);
      // 50 groups dealt round-robin over 20 instances: the first instance gets 3.
      expect(groups.body?.snapshotGroups?.snapshotGroup).toHaveLength(3);
      expect(groups.body?.snapshotGroups?.snapshotGroup?.[0]?.snapshots?.snapshot).toHaveLength(2);
      expect(tagged.body?.totalCount).toBe(100);
      const progress = Number(half.body?.snapshots?.snapshot?.[0]?.progress?.replace('%', ''));
      expect(progress).toBeGreaterThanOrEqual(50);
      expect(progress).toBeLessThan(100);
      expect((await h.emu.admin.stats()).snapshots).toBe(101);
    } finally {
      await h.stop();
    }
  });
});
