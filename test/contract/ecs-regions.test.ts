import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regionalEndpoint } from '../../lib/adapters/ecs/index.js';
import { EcsBusyError, EcsUnsupportedError, EcsNotFoundError, type Ecs } from '../../lib/ports/ecs.js';
import type { EcsEmulator } from '../../local/ecs-emulator/index.js';
import { adapterFor, caught, startEmulatorIn, until, type EmulatorFixture } from './support/ecs-fixtures.js';

/** The ECS adapter's region views and CopySnapshot, through the official SDK against the emulator. */

const SHANGHAI = 'cn-shanghai';
const OURS = { key: 'ecs-backup:managed-by', value: 'ecs-backup' };

let fixture: EmulatorFixture;
let emu: EcsEmulator;
let ecs: Ecs;

beforeAll(async () => {
  fixture = await startEmulatorIn('ecsb-regions-', {
    seed: {
      instances: [
        {
          instanceId: 'i-rgsrc01',
          disks: [
            {
              diskId: 'd-rgsrcsys',
              type: 'system',
              category: 'cloud_essd',
              files: { 'etc/hostname': 'src\n' },
            },
          ],
        },
      ],
    },
    snapshotBaseMs: 300,
    asyncOperationMs: 50,
  });
  emu = fixture.emu;
  await emu.admin.inRegion(SHANGHAI).addInstance({ instanceId: 'i-rgdst01' });
  ecs = adapterFor(emu, { maxAttempts: 1 });
});

afterAll(async () => {
  await fixture?.close();
});

describe('ECS adapter: regions', () => {
  it('a region view reads and writes that region only', async () => {
    const shanghai = ecs.forRegion(SHANGHAI);
    expect(shanghai.regionId).toBe(SHANGHAI);
    expect(ecs.forRegion(emu.regionId)).toBe(ecs);
    expect(ecs.forRegion(SHANGHAI)).toBe(shanghai);
    expect((await shanghai.describeInstances()).map((i) => [i.instanceId, i.regionId])).toEqual([
      ['i-rgdst01', SHANGHAI],
    ]);
    expect((await ecs.describeInstances()).map((i) => i.instanceId)).toEqual(['i-rgsrc01']);
    const unknown = await caught(ecs.forRegion('cn-nowhere').describeInstances());
    expect(unknown).toBeInstanceOf(EcsNotFoundError);
    expect(unknown.code).toBe('InvalidRegionId.NotFound');
  });

  it('copies a snapshot to another region, tagged, progressing to accomplished, idempotent by ClientToken', async () => {
    const request = {
      diskId: 'd-rgsrcsys',
      name: 'source',
      tags: [OURS],
      clientToken: 'regions-source-1',
    };
    const sourceId = await ecs.createSnapshot(request);
    const copyRequest = {
      snapshotId: sourceId,
      destinationRegionId: SHANGHAI,
      name: 'ecs-backup-copy',
      tags: [OURS, { key: 'ecs-backup:job', value: 'job-1' }],
      clientToken: 'regions-copy-1',
    };
    const early = await caught(ecs.copySnapshot(copyRequest));
    expect(early).toBeInstanceOf(EcsBusyError);
    expect(early.code).toBe('IncorrectSnapshotStatus');
    await until(
      () => ecs.describeSnapshots([sourceId]),
      (s) => s[0]?.status === 'accomplished',
    );
    const copyId = await ecs.copySnapshot(copyRequest);
    expect(await ecs.copySnapshot(copyRequest)).toBe(copyId);

    const shanghai = ecs.forRegion(SHANGHAI);
    expect(await ecs.describeSnapshots([copyId])).toEqual([]);
    const done = await until(
      () => shanghai.describeSnapshots([copyId]),
      (s) => s[0]?.status === 'accomplished',
    );
    expect(done[0]).toMatchObject({ sourceDiskId: 'd-rgsrcsys', progress: 100 });
    const found = await shanghai.findSnapshotsByTag({ key: 'ecs-backup:job', value: 'job-1' });
    expect(found.map((s) => s.snapshotId)).toEqual([copyId]);
    expect(await emu.admin.inRegion(SHANGHAI).readFile({ snapshotId: copyId, path: 'etc/hostname' })).toBe(
      'src\n',
    );

    // DeleteSnapshot has no RegionId: the region view's endpoint (here the one emulator) finds it.
    await shanghai.deleteSnapshot(copyId);
    expect(await shanghai.describeSnapshots([copyId])).toEqual([]);
    expect((await ecs.describeSnapshots([sourceId])).map((s) => s.snapshotId)).toEqual([sourceId]);

    const same = await caught(
      ecs.copySnapshot({ ...copyRequest, destinationRegionId: emu.regionId, clientToken: 'x1' }),
    );
    // ECS answers InvalidOperation.NotSupportCopyInSameRegion (403) for a copy to its own region.
    expect(same).toBeInstanceOf(EcsUnsupportedError);
    expect((same as EcsUnsupportedError).code).toBe('InvalidOperation.NotSupportCopyInSameRegion');
    const nowhere = await caught(
      ecs.copySnapshot({ ...copyRequest, destinationRegionId: 'cn-nowhere', clientToken: 'x2' }),
    );
    expect(nowhere).toBeInstanceOf(EcsNotFoundError);
    const gone = await caught(ecs.copySnapshot({ ...copyRequest, snapshotId: 's-gone', clientToken: 'x3' }));
    expect(gone).toBeInstanceOf(EcsNotFoundError);
  });

  it('swaps a regional endpoint for the other region and keeps any other endpoint', () => {
    expect(regionalEndpoint('ecs.cn-hangzhou.aliyuncs.com', 'cn-hangzhou', 'cn-shanghai')).toBe(
      'ecs.cn-shanghai.aliyuncs.com',
    );
    expect(regionalEndpoint('https://ecs.cn-hangzhou.aliyuncs.com', 'cn-hangzhou', 'cn-beijing')).toBe(
      'https://ecs.cn-beijing.aliyuncs.com',
    );
    expect(regionalEndpoint('127.0.0.1:9090', 'cn-hangzhou', 'cn-shanghai')).toBe('127.0.0.1:9090');
  });
});
