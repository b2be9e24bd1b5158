import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ecs, REGION, ecsError, startHarness, waitFor, type Harness } from './helpers.js';

const MANAGED = { key: 'ecs-backup:managed-by', value: 'ecs-backup' };

describe('ECS emulator: snapshots and snapshot groups through the official SDK', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.stop();
  });

  const groupStatus = async (id: string): Promise<string | undefined> => {
    const r = await h.ecs.describeSnapshotGroups(
      new Ecs.DescribeSnapshotGroupsRequest({ regionId: REGION, snapshotGroupId: [id] }),
    );
    return r.body?.snapshotGroups?.snapshotGroup?.[0]?.status;
  };

  it('creates a group of every ESSD disk of an instance that progresses to accomplished', async () => {
    // Act
    const created = await h.ecs.createSnapshotGroup(
      new Ecs.CreateSnapshotGroupRequest({
        regionId: REGION,
        instanceId: 'i-demoweb01',
        name: 'nightly',
        tag: [MANAGED],
      }),
    );
    const id = created.body?.snapshotGroupId as string;
    const first = await h.ecs.describeSnapshotGroups(
      new Ecs.DescribeSnapshotGroupsRequest({ regionId: REGION, snapshotGroupId: [id] }),
    );

    // Assess
    expect(id).toMatch(/^ssg-[a-z0-9]{20}$/);
    const group = first.body?.snapshotGroups?.snapshotGroup?.[0];
    expect(group?.instanceId).toBe('i-demoweb01');
    expect(group?.tags?.tag).toEqual([expect.objectContaining({ key: MANAGED.key, value: MANAGED.value })]);
    const snaps = group?.snapshots?.snapshot ?? [];
    expect(snaps.map((s) => s.sourceDiskId).sort()).toEqual(['d-demoweb01data', 'd-demoweb01sys']);
    expect(snaps.map((s) => s.sourceDiskType).sort()).toEqual(['Data', 'System']);
    for (const s of snaps) expect(s.progress).toMatch(/^\d{1,3}%$/);
    await waitFor(async () => ((await groupStatus(id)) === 'accomplished' ? true : undefined));
    const done = await h.ecs.describeSnapshotGroups(
      new Ecs.DescribeSnapshotGroupsRequest({ regionId: REGION, snapshotGroupId: [id] }),
    );
    for (const s of done.body?.snapshotGroups?.snapshotGroup?.[0]?.snapshots?.snapshot ?? []) {
      expect(s.progress).toBe('100%');
      expect(s.available).toBe(true);
    }
  });

  it('refuses DiskId with ExcludeDiskId, non-ESSD disks, too many disks and unknown instances', async () => {
    const both = await ecsError(
      h.ecs.createSnapshotGroup(
        new Ecs.CreateSnapshotGroupRequest({
          regionId: REGION,
          instanceId: 'i-demoweb01',
          diskId: ['d-demoweb01sys'],
          excludeDiskId: ['d-demoweb01data'],
        }),
      ),
    );
    expect(both).toMatchObject({ code: 'InvalidParameter.Conflict', statusCode: 400 });

    const category = await ecsError(
      h.ecs.createSnapshotGroup(
        new Ecs.CreateSnapshotGroupRequest({ regionId: REGION, instanceId: 'i-demolegacy01' }),
      ),
    );
    expect(category).toMatchObject({ code: 'DiskCategory.OperationNotSupported', statusCode: 403 });

    await h.emu.admin.setGroupDiskLimit({ limit: 1 });
    const tooMany = await ecsError(
      h.ecs.createSnapshotGroup(
        new Ecs.CreateSnapshotGroupRequest({ regionId: REGION, instanceId: 'i-demodb01' }),
      ),
    );
    await h.emu.admin.setGroupDiskLimit({ limit: 16 });
    expect(tooMany.code).toBe('InvalidParameter.DiskCount');

    const missing = await ecsError(
      h.ecs.createSnapshotGroup(
        new Ecs.CreateSnapshotGroupRequest({ regionId: REGION, instanceId: 'i-nosuchinstance' }),
      ),
    );
    expect(missing).toMatchObject({ code: 'InvalidInstanceId.NotFound', statusCode: 404 });
  });

  it('honours ExcludeDiskId and lists groups by instance, status and tag', async () => {
    // Prepare
    await h.emu.admin.setSnapshotSpeed({ instant: true });
    const r = await h.ecs.createSnapshotGroup(
      new Ecs.CreateSnapshotGroupRequest({
        regionId: REGION,
        instanceId: 'i-demodb01',
        excludeDiskId: ['d-demodb01sys'],
        tag: [{ key: 'ecs-backup:job', value: 'job-exclude' }],
      }),
    );
    const id = r.body?.snapshotGroupId as string;

    // Act
    const byTag = await h.ecs.describeSnapshotGroups(
      new Ecs.DescribeSnapshotGroupsRequest({
        regionId: REGION,
        tag: [{ key: 'ecs-backup:job', value: 'job-exclude' }],
      }),
    );
    const byInstance = await h.ecs.describeSnapshotGroups(
      new Ecs.DescribeSnapshotGroupsRequest({
        regionId: REGION,
        instanceId: 'i-demodb01',
        status: ['accomplished'],
      }),
    );

    // Assess
    const groups = byTag.body?.snapshotGroups?.snapshotGroup ?? [];
    expect(groups.map((g) => g.snapshotGroupId)).toEqual([id]);
    expect(groups[0]?.snapshots?.snapshot?.map((s) => s.sourceDiskId)).toEqual(['d-demodb01data']);
    expect(byInstance.body?.snapshotGroups?.snapshotGroup?.map((g) => g.snapshotGroupId)).toContain(id);
    await h.emu.admin.setSnapshotSpeed({ bytesPerSec: 4 * 1024 ** 3, baseMs: 300 });
  });

  it('pages groups with NextToken/MaxResults and refuses more than 10 group ids', async () => {
    await h.emu.admin.setSnapshotSpeed({ instant: true });
    for (let i = 0; i < 3; i++) {
      await h.ecs.createSnapshotGroup(
        new Ecs.CreateSnapshotGroupRequest({ regionId: REGION, instanceId: 'i-demowin01' }),
      );
    }
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await h.ecs.describeSnapshotGroups(
        new Ecs.DescribeSnapshotGroupsRequest({
          regionId: REGION,
          instanceId: 'i-demowin01',
          maxResults: 2,
          nextToken: token,
        }),
      );
      const items = page.body?.snapshotGroups?.snapshotGroup ?? [];
      expect(items.length).toBeLessThanOrEqual(2);
      seen.push(...items.map((g) => g.snapshotGroupId as string));
      token = page.body?.nextToken || undefined;
    } while (token);
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(3);

    const eleven = Array.from({ length: 11 }, (_, i) => `ssg-${i}`);
    const err = await ecsError(
      h.ecs.describeSnapshotGroups(
        new Ecs.DescribeSnapshotGroupsRequest({ regionId: REGION, snapshotGroupId: eleven }),
      ),
    );
    expect(err.code).toBe('InvalidParameter.SnapshotGroupId');
    await h.emu.admin.setSnapshotSpeed({ bytesPerSec: 4 * 1024 ** 3, baseMs: 300 });
  });

  it('allows one snapshot in progress per disk and snapshots a stopped instance', async () => {
    // Prepare: slow enough that the first is still progressing
    await h.emu.admin.setSnapshotSpeed({ baseMs: 60_000 });
    const first = await h.ecs.createSnapshot(
      new Ecs.CreateSnapshotRequest({ diskId: 'd-demobatch01data', snapshotName: 'first' }),
    );

    // Act
    const second = await ecsError(
      h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: 'd-demobatch01data' })),
    );

    // Assess
    expect(first.body?.snapshotId).toMatch(/^s-/);
    expect(second).toMatchObject({ code: 'IncorrectDiskStatus.CreatingSnapshot', statusCode: 403 });
    const view = await h.ecs.describeSnapshots(
      new Ecs.DescribeSnapshotsRequest({
        regionId: REGION,
        snapshotIds: JSON.stringify([first.body?.snapshotId]),
      }),
    );
    const s = view.body?.snapshots?.snapshot?.[0];
    expect(s?.status).toBe('progressing');
    expect(s?.remainTime).toBeGreaterThan(0);
    expect(await h.emu.admin.completeSnapshots({ snapshotIds: [first.body?.snapshotId as string] })).toBe(1);
    await h.emu.admin.setSnapshotSpeed({ baseMs: 300 });
  });

  it('refuses a name starting with auto, a never-started instance and a transitional instance', async () => {
    const auto = await ecsError(
      h.ecs.createSnapshot(
        new Ecs.CreateSnapshotRequest({ diskId: 'd-demoweb01sys', snapshotName: 'auto-x' }),
      ),
    );
    expect(auto.code).toBe('InvalidSnapshotName.Malformed');

    const { instanceId, diskIds } = await h.emu.admin.addInstance({
      everStarted: false,
      disks: [{ category: 'cloud_essd' }],
    });
    const never = await ecsError(h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: diskIds[0] })));
    expect(never.code).toBe('IncorrectInstanceStatus.Initializing');

    await h.emu.admin.updateInstance({ instanceId, status: 'Starting', everStarted: true });
    const starting = await ecsError(
      h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: diskIds[0] })),
    );
    expect(starting).toMatchObject({ code: 'IncorrectInstanceStatus', statusCode: 403 });
  });

  it('enforces the manual snapshot quota per disk', async () => {
    const q = await startHarness({ snapshotQuotaPerDisk: 2, snapshotBaseMs: 0, snapshotSpeedBytesPerSec: 0 });
    try {
      await q.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: 'd-demoweb01sys' }));
      await q.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: 'd-demoweb01sys' }));
      const third = await ecsError(
        q.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: 'd-demoweb01sys' })),
      );
      expect(third).toMatchObject({ code: 'QuotaExceed.Snapshot', statusCode: 403 });
    } finally {
      await q.stop();
    }
  });

  it('returns the first result for a repeated ClientToken and refuses other parameters with it', async () => {
    await h.emu.admin.setSnapshotSpeed({ instant: true });
    const req = (name: string): InstanceType<typeof Ecs.CreateSnapshotRequest> =>
      new Ecs.CreateSnapshotRequest({
        diskId: 'd-demoweb01data',
        snapshotName: name,
        clientToken: 'job-42-disk-data',
      });
    const a = await h.ecs.createSnapshot(req('token-run'));
    const b = await h.ecs.createSnapshot(req('token-run'));
    const mismatch = await ecsError(h.ecs.createSnapshot(req('other-name')));

    expect(b.body?.snapshotId).toBe(a.body?.snapshotId);
    expect(b.body?.requestId).not.toBe(a.body?.requestId);
    expect(mismatch).toMatchObject({ code: 'IdempotentParameterMismatch', statusCode: 400 });
    const listed = await h.ecs.describeSnapshots(
      new Ecs.DescribeSnapshotsRequest({
        regionId: REGION,
        diskId: 'd-demoweb01data',
        snapshotName: 'token-run',
      }),
    );
    expect(listed.body?.totalCount).toBe(1);

    const g1 = await h.ecs.createSnapshotGroup(
      new Ecs.CreateSnapshotGroupRequest({
        regionId: REGION,
        instanceId: 'i-demowin01',
        clientToken: 'job-43',
      }),
    );
    const g2 = await h.ecs.createSnapshotGroup(
      new Ecs.CreateSnapshotGroupRequest({
        regionId: REGION,
        instanceId: 'i-demowin01',
        clientToken: 'job-43',
      }),
    );
    expect(g2.body?.snapshotGroupId).toBe(g1.body?.snapshotGroupId);
    await h.emu.admin.setSnapshotSpeed({ bytesPerSec: 4 * 1024 ** 3, baseMs: 300 });
  });

  it('filters DescribeSnapshots by ids, disk, status and tag, in both paging styles', async () => {
    // Prepare
    await h.emu.admin.setSnapshotSpeed({ instant: true });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await h.ecs.createSnapshot(
        new Ecs.CreateSnapshotRequest({
          diskId: 'd-demowin01data',
          tag: [{ key: 'ecs-backup:plan', value: 'p-filter' }],
        }),
      );
      ids.push(r.body?.snapshotId as string);
    }

    // Act
    const byTag = await h.ecs.describeSnapshots(
      new Ecs.DescribeSnapshotsRequest({
        regionId: REGION,
        tag: [{ key: 'ecs-backup:plan', value: 'p-filter' }],
        pageSize: 2,
        pageNumber: 2,
      }),
    );
    const byIds = await h.ecs.describeSnapshots(
      new Ecs.DescribeSnapshotsRequest({
        regionId: REGION,
        snapshotIds: JSON.stringify(ids.slice(0, 2)),
        status: 'accomplished',
      }),
    );
    const tokenPage = await h.ecs.describeSnapshots(
      new Ecs.DescribeSnapshotsRequest({ regionId: REGION, diskId: 'd-demowin01data', maxResults: 2 }),
    );
    const malformed = await ecsError(
      h.ecs.describeSnapshots(new Ecs.DescribeSnapshotsRequest({ regionId: REGION, snapshotIds: 's-1,s-2' })),
    );

    // Assess
    expect(byTag.body?.totalCount).toBe(3);
    expect(byTag.body?.pageNumber).toBe(2);
    expect(byTag.body?.snapshots?.snapshot).toHaveLength(1);
    expect(byTag.body?.snapshots?.snapshot?.[0]?.tags?.tag?.[0]).toMatchObject({
      tagKey: 'ecs-backup:plan',
      tagValue: 'p-filter',
    });
    expect(byIds.body?.snapshots?.snapshot?.map((s) => s.snapshotId).sort()).toEqual(ids.slice(0, 2).sort());
    expect(byIds.body?.snapshots?.snapshot?.[0]).toMatchObject({
      progress: '100%',
      sourceDiskSize: '100',
      usage: 'none',
    });
    expect(tokenPage.body?.snapshots?.snapshot).toHaveLength(2);
    expect(tokenPage.body?.nextToken).not.toBe('');
    expect(malformed.code).toBe('InvalidSnapshotIds.Malformed');
    await h.emu.admin.setSnapshotSpeed({ bytesPerSec: 4 * 1024 ** 3, baseMs: 300 });
  });

  it('cancels a snapshot being created when it is deleted, and deletes groups snapshot by snapshot', async () => {
    await h.emu.admin.setSnapshotSpeed({ baseMs: 60_000 });
    const s = await h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: 'd-demolegacy01sys' }));
    await h.ecs.deleteSnapshot(new Ecs.DeleteSnapshotRequest({ snapshotId: s.body?.snapshotId }));
    const after = await h.ecs.describeSnapshots(
      new Ecs.DescribeSnapshotsRequest({
        regionId: REGION,
        snapshotIds: JSON.stringify([s.body?.snapshotId]),
      }),
    );
    expect(after.body?.totalCount).toBe(0);
    // The disk is free again for a new snapshot.
    await h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: 'd-demolegacy01sys' }));
    await h.emu.admin.completeSnapshots();
    await h.ecs.deleteSnapshot(new Ecs.DeleteSnapshotRequest({ snapshotId: 's-doesnotexist0000000' }));

    await h.emu.admin.setSnapshotSpeed({ instant: true });
    const g = await h.ecs.createSnapshotGroup(
      new Ecs.CreateSnapshotGroupRequest({ regionId: REGION, instanceId: 'i-demoweb01' }),
    );
    const del = await h.ecs.deleteSnapshotGroup(
      new Ecs.DeleteSnapshotGroupRequest({ regionId: REGION, snapshotGroupId: g.body?.snapshotGroupId }),
    );
    const ops = del.body?.operationProgressSet?.operationProgress ?? [];
    expect(ops).toHaveLength(2);
    expect(ops.every((o) => o.operationStatus === 'Success')).toBe(true);
    expect(await groupStatus(g.body?.snapshotGroupId as string)).toBeUndefined();
    const gone = await ecsError(
      h.ecs.deleteSnapshotGroup(
        new Ecs.DeleteSnapshotGroupRequest({ regionId: REGION, snapshotGroupId: g.body?.snapshotGroupId }),
      ),
    );
    expect(gone).toMatchObject({ code: 'InvalidSnapshotGroupId.NotFound', statusCode: 404 });
    await h.emu.admin.setSnapshotSpeed({ bytesPerSec: 4 * 1024 ** 3, baseMs: 300 });
  });

  it('fails a snapshot part-way when told to, and the group with it', async () => {
    await h.emu.admin.setSnapshotSpeed({ baseMs: 400 });
    await h.emu.admin.failSnapshot({ diskId: 'd-demoweb01data', atPercent: 30 });
    const g = await h.ecs.createSnapshotGroup(
      new Ecs.CreateSnapshotGroupRequest({ regionId: REGION, instanceId: 'i-demoweb01' }),
    );
    const id = g.body?.snapshotGroupId as string;
    await waitFor(async () => ((await groupStatus(id)) === 'progressing' ? undefined : true));
    const r = await h.ecs.describeSnapshotGroups(
      new Ecs.DescribeSnapshotGroupsRequest({ regionId: REGION, snapshotGroupId: [id] }),
    );
    const group = r.body?.snapshotGroups?.snapshotGroup?.[0];
    expect(group?.status).toBe('failed');
    const failed = group?.snapshots?.snapshot?.find((s) => s.sourceDiskId === 'd-demoweb01data');
    expect(failed).toMatchObject({ progress: '30%', available: false });
    await h.emu.admin.setSnapshotSpeed({ baseMs: 300 });
  });

  it('runs snapshot durations on an accelerated clock: 60-120 s simulated complete in 0.3-0.6 s at x200', async () => {
    await h.emu.admin.setSnapshotSpeed({ bytesPerSec: 0, baseMs: 60_000, spreadMs: 60_000, timeScale: 200 });
    try {
      const started = Date.now();
      const created = await h.ecs.createSnapshotGroup(
        new Ecs.CreateSnapshotGroupRequest({ regionId: REGION, instanceId: 'i-demowin01' }),
      );
      const id = created.body?.snapshotGroupId as string;
      expect(await groupStatus(id)).toBe('progressing');
      await waitFor(async () => ((await groupStatus(id)) === 'accomplished' ? true : undefined), 10_000);
      // At most 120 s / 200 = 0.6 s; at least 60 s / 200 = 0.3 s.
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      await expect(h.emu.admin.setSnapshotSpeed({ timeScale: 0 })).rejects.toThrow(/timeScale/);
    } finally {
      await h.emu.admin.setSnapshotSpeed({
        bytesPerSec: 4 * 1024 ** 3,
        baseMs: 300,
        spreadMs: 0,
        timeScale: 1,
      });
    }
  });
});
