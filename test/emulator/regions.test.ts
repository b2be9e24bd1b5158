import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEcsEmulator } from '../../local/ecs-emulator/index.js';
import { Ecs, REGION, ecsError, startHarness, waitFor, type Harness } from './helpers.js';

const SHANGHAI = 'cn-shanghai';
const OURS = { key: 'ecs-backup:managed-by', value: 'ecs-backup' };

describe('ECS emulator: regions and CopySnapshot through the official SDK', () => {
  let h: Harness;
  let sourceId: string;

  const snapshotIn = async (regionId: string, id: string) => {
    const r = await h.ecs.describeSnapshots(
      new Ecs.DescribeSnapshotsRequest({ regionId, snapshotIds: JSON.stringify([id]) }),
    );
    return r.body?.snapshots?.snapshot?.[0];
  };
  const copy = (overrides: Record<string, unknown> = {}) =>
    h.ecs.copySnapshot(
      new Ecs.CopySnapshotRequest({
        regionId: REGION,
        snapshotId: sourceId,
        destinationRegionId: SHANGHAI,
        destinationSnapshotName: 'copy-of-web',
        destinationSnapshotDescription: 'cross-region copy',
        tag: [OURS],
        ...overrides,
      }),
    );

  beforeAll(async () => {
    h = await startHarness({ snapshotBaseMs: 600 });
    await h.emu.admin.writeFile({
      diskId: 'd-demoweb01data',
      path: 'data/orders.csv',
      content: 'id,total\n1,42\n',
    });
    const made = await h.ecs.createSnapshot(
      new Ecs.CreateSnapshotRequest({ diskId: 'd-demoweb01data', snapshotName: 'source-snap' }),
    );
    sourceId = made.body?.snapshotId as string;
  });
  afterAll(async () => {
    await h.stop();
  });

  it('keeps one inventory per region, chosen by RegionId', async () => {
    const regions = await h.ecs.describeRegions(new Ecs.DescribeRegionsRequest({}));
    expect(regions.body?.regions?.region?.map((r) => r.regionId).sort()).toEqual([REGION, SHANGHAI]);
    const { instanceId } = await h.emu.admin.inRegion(SHANGHAI).addInstance({
      instanceId: 'i-shtarget01',
      disks: [{ diskId: 'd-shtarget01sys', category: 'cloud_essd', type: 'system' }],
    });
    const inShanghai = await h.ecs.describeInstances(
      new Ecs.DescribeInstancesRequest({ regionId: SHANGHAI }),
    );
    expect(inShanghai.body?.instances?.instance?.map((i) => i.instanceId)).toEqual([instanceId]);
    expect(inShanghai.body?.instances?.instance?.[0]?.zoneId).toMatch(/^cn-shanghai-/);
    const inHangzhou = await h.ecs.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: REGION }));
    expect(inHangzhou.body?.instances?.instance?.map((i) => i.instanceId)).not.toContain(instanceId);
    // The hangzhou snapshot is not visible from shanghai.
    expect(await snapshotIn(SHANGHAI, sourceId)).toBeUndefined();

    // The admin methods over HTTP reach a region with ?region=.
    const remote = await connectEcsEmulator({
      url: h.emu.url,
      regionId: REGION,
      accessKeyId: h.emu.accessKeyId,
      accessKeySecret: h.emu.accessKeySecret,
    });
    expect((await remote.admin.inRegion(SHANGHAI).stats()).instances).toBe(1);
    expect((await remote.admin.stats()).instances).toBe(5);
    await expect(remote.admin.inRegion('cn-nowhere').stats()).rejects.toThrow(/InvalidRegionId.NotFound/);
  });

  it('answers an unknown region with InvalidRegionId.NotFound', async () => {
    const err = await ecsError(
      h.ecs.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: 'cn-nowhere' })),
    );
    expect(err).toMatchObject({ code: 'InvalidRegionId.NotFound', statusCode: 404 });
  });

  it('refuses to copy a snapshot still being created, then copies it asynchronously with its tree', async () => {
    const early = await ecsError(copy({ clientToken: 'copy-early' }));
    expect(early).toMatchObject({ code: 'IncorrectSnapshotStatus', statusCode: 403 });
    await waitFor(async () =>
      (await snapshotIn(REGION, sourceId))?.status === 'accomplished' ? true : undefined,
    );

    const answer = await copy({ clientToken: 'copy-1' });
    const copyId = answer.body?.snapshotId as string;
    expect(copyId).toMatch(/^s-/);
    expect(copyId).not.toBe(sourceId);
    const again = await copy({ clientToken: 'copy-1' });
    expect(again.body?.snapshotId).toBe(copyId);

    const first = await snapshotIn(SHANGHAI, copyId);
    expect(first?.status).toBe('progressing');
    expect(first?.sourceSnapshotId).toBe(sourceId);
    expect(first?.sourceRegionId).toBe(REGION);
    expect(first?.sourceDiskId).toBe('d-demoweb01data');
    expect(first?.tags?.tag).toEqual([expect.objectContaining({ tagKey: OURS.key, tagValue: OURS.value })]);
    expect(await snapshotIn(REGION, copyId)).toBeUndefined();
    const done = await waitFor(async () => {
      const s = await snapshotIn(SHANGHAI, copyId);
      return s?.status === 'accomplished' ? s : undefined;
    });
    expect(done.progress).toBe('100%');
    expect(done.encrypted).toBe(false);

    const shanghai = h.emu.admin.inRegion(SHANGHAI);
    expect(await shanghai.listFiles({ snapshotId: copyId })).toEqual(
      await h.emu.admin.listFiles({ snapshotId: sourceId }),
    );
    expect(await shanghai.readFile({ snapshotId: copyId, path: 'data/orders.csv' })).toBe('id,total\n1,42\n');

    // A disk made from the copy in its region holds the source disk's files.
    const disk = await h.ecs.createDisk(
      new Ecs.CreateDiskRequest({
        regionId: SHANGHAI,
        zoneId: 'cn-shanghai-b',
        snapshotId: copyId,
        diskCategory: 'cloud_essd',
      }),
    );
    const diskId = disk.body?.diskId as string;
    expect(await shanghai.readFile({ diskId, path: 'data/orders.csv' })).toBe('id,total\n1,42\n');
    // Region-less actions find the region of the resource they name.
    await h.ecs.deleteSnapshot(new Ecs.DeleteSnapshotRequest({ snapshotId: copyId, force: true }));
    expect(await snapshotIn(SHANGHAI, copyId)).toBeUndefined();
    expect((await snapshotIn(REGION, sourceId))?.snapshotId).toBe(sourceId);
  });

  it('encrypts a copy on request, and keeps the key only on an encrypted copy', async () => {
    const plainKey = await ecsError(copy({ KMSKeyId: 'key-1' }));
    expect(plainKey).toMatchObject({ code: 'InvalidEncrypted.NotMatchKmsKeyId', statusCode: 403 });
    const answer = await copy({ encrypted: true, KMSKeyId: 'key-1' });
    const s = await snapshotIn(SHANGHAI, answer.body?.snapshotId as string);
    expect(s?.encrypted).toBe(true);
    expect(s?.KMSKeyId).toBe('key-1');
  });

  it('fails a copy part-way when told to, and refuses bad requests', async () => {
    await h.emu.admin.failCopy({ snapshotId: sourceId, atPercent: 10 });
    const answer = await copy();
    const failed = await waitFor(async () => {
      const s = await snapshotIn(SHANGHAI, answer.body?.snapshotId as string);
      return s?.status === 'failed' ? s : undefined;
    });
    expect(failed.progress).toBe('10%');

    expect(await ecsError(copy({ destinationRegionId: 'cn-nowhere' }))).toMatchObject({
      code: 'InvalidRegionId.NotFound',
      statusCode: 404,
    });
    expect(await ecsError(copy({ destinationRegionId: REGION }))).toMatchObject({
      code: 'InvalidOperation.NotSupportCopyInSameRegion',
      statusCode: 403,
    });
    expect(await ecsError(copy({ snapshotId: 's-doesnotexist' }))).toMatchObject({
      code: 'InvalidSnapshotId.NotFound',
      statusCode: 404,
    });
    expect(await ecsError(copy({ destinationSnapshotName: 'auto-copy' }))).toMatchObject({
      code: 'InvalidSnapshotName.Malformed',
    });
    expect(await ecsError(copy({ destinationSnapshotName: undefined }))).toMatchObject({
      code: 'MissingParameter',
    });
  });

  it('keeps each region after a restart', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecs-emu-regions-'));
    const first = await startHarness({ dataDir });
    await first.emu.admin.inRegion(SHANGHAI).addInstance({ instanceId: 'i-shkeep01' });
    await first.emu.close();
    const second = await startHarness({ dataDir });
    try {
      const sh = await second.ecs.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: SHANGHAI }));
      expect(sh.body?.instances?.instance?.map((i) => i.instanceId)).toEqual(['i-shkeep01']);
      const hz = await second.ecs.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: REGION }));
      expect(hz.body?.instances?.instance?.map((i) => i.instanceId)).toContain('i-demoweb01');
    } finally {
      await second.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('counts the snapshot quota per region: a copy uses the destination region quota, not the source one', async () => {
    const own = await startHarness({ snapshotQuotaPerDisk: 1, snapshotBaseMs: 50 });
    try {
      const made = await own.ecs.createSnapshot(
        new Ecs.CreateSnapshotRequest({ diskId: 'd-demodb01data', snapshotName: 'only-one' }),
      );
      const id = made.body?.snapshotId as string;
      await waitFor(async () => {
        const r = await own.ecs.describeSnapshots(
          new Ecs.DescribeSnapshotsRequest({ regionId: REGION, snapshotIds: JSON.stringify([id]) }),
        );
        return r.body?.snapshots?.snapshot?.[0]?.status === 'accomplished' ? true : undefined;
      });
      const full = await ecsError(
        own.ecs.createSnapshot(
          new Ecs.CreateSnapshotRequest({ diskId: 'd-demodb01data', snapshotName: 'two' }),
        ),
      );
      expect(full).toMatchObject({ code: 'QuotaExceed.Snapshot', statusCode: 403 });
      const request = (name: string) =>
        new Ecs.CopySnapshotRequest({
          regionId: REGION,
          snapshotId: id,
          destinationRegionId: SHANGHAI,
          destinationSnapshotName: name,
        });
      // The source region is full, the destination is not: the first copy goes through.
      expect((await own.ecs.copySnapshot(request('copy-one'))).body?.snapshotId).toMatch(/^s-/);
      expect(await ecsError(own.ecs.copySnapshot(request('copy-two')))).toMatchObject({
        code: 'QuotaExceed.Snapshot',
        statusCode: 403,
      });
    } finally {
      await own.stop();
    }
  });
});
