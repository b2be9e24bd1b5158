import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEcsAdapter } from '../../lib/adapters/ecs/index.js';
import { EcsBusyError, EcsUnsupportedError, type Ecs } from '../../lib/ports/ecs.js';
import { startEcsEmulator, type EcsEmulator } from '../../local/ecs-emulator/index.js';

/** The ECS adapter's image and launch calls against the emulator, through the official SDK. */

let dataDir: string;
let emu: EcsEmulator;
let ecs: Ecs;
const TAG = { key: 'ecs-backup:job', value: 'job-launch-contract' };

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join('/var/tmp', 'ecsb-launch-'));
  emu = await startEcsEmulator({
    dataDir,
    seed: {
      zones: ['cn-hangzhou-h', 'cn-hangzhou-i'],
      instances: [
        {
          instanceId: 'i-launch01',
          zoneId: 'cn-hangzhou-i',
          instanceType: 'ecs.g7.xlarge',
          tags: { app: 'db' },
          disks: [
            {
              diskId: 'd-launchsys',
              type: 'system',
              category: 'cloud_essd',
              files: { 'etc/hostname': 'db\n' },
            },
            { diskId: 'd-launchdata', type: 'data', category: 'cloud_essd', files: { 'db/rows': '1,2,3\n' } },
          ],
        },
      ],
    },
    asyncOperationMs: 50,
    snapshotBaseMs: 0,
    snapshotSpeedBytesPerSec: 0,
  });
  ecs = createEcsAdapter({
    endpoint: emu.endpoint,
    protocol: 'http',
    regionId: emu.regionId,
    credentials: { accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret },
    defaultRatePerSecond: 1000,
    baseDelayMs: 1,
    maxDelayMs: 2,
  });
});

afterAll(async () => {
  await emu?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('ECS adapter: what a clone needs to know first', () => {
  it('reads the instance type, vSwitch and security groups of an instance', async () => {
    const [source] = await ecs.describeInstances(['i-launch01']);
    expect(source).toMatchObject({
      instanceType: 'ecs.g7.xlarge',
      vSwitchId: 'vsw-iemulator00000000',
      securityGroupIds: ['sg-emulator000000000001'],
      zoneId: 'cn-hangzhou-i',
    });
    expect(await ecs.describeInstanceAttribute('i-launch01')).toMatchObject({
      instanceType: 'ecs.g7.xlarge',
      vSwitchId: 'vsw-iemulator00000000',
    });
    expect(await ecs.describeInstanceAttribute('i-nothere')).toBeNull();
  });

  it('lists the instance types a zone sells and finds vSwitches through the VPC API', async () => {
    expect(await ecs.availableInstanceTypes('cn-hangzhou-h')).toContain('ecs.c7.large');
    expect(await ecs.availableInstanceTypes('cn-hangzhou-i')).toEqual(['ecs.g7.large', 'ecs.g7.xlarge']);
    expect(await ecs.describeVSwitches(['vsw-iemulator00000000', 'vsw-unknown'])).toEqual([
      { vSwitchId: 'vsw-iemulator00000000', zoneId: 'cn-hangzhou-i' },
    ]);
    const vpcCalls = await emu.admin.calls({ action: 'DescribeVSwitches' });
    expect(vpcCalls.length).toBe(2);
  });
});

describe('ECS adapter: image, launch, release', () => {
  it('builds an image from the snapshots, launches from it, and releases both', async () => {
    const system = await ecs.createSnapshot({
      diskId: 'd-launchsys',
      name: 'launch-sys',
      tags: [TAG],
      clientToken: 'l-s',
    });
    const data = await ecs.createSnapshot({
      diskId: 'd-launchdata',
      name: 'launch-data',
      tags: [TAG],
      clientToken: 'l-d',
    });
    await emu.admin.completeSnapshots({});
    const request = {
      systemSnapshotId: system,
      dataSnapshotIds: [data],
      name: 'ecsb-launch-contract',
      tags: [TAG],
      clientToken: 'launch-image',
    };
    const imageId = await ecs.createImage(request);
    expect(await ecs.createImage(request)).toBe(imageId);
    const [creating] = await ecs.describeImages([imageId]);
    expect(creating).toMatchObject({ imageId, snapshotIds: [system, data], tags: [TAG] });
    expect(['Creating', 'Available']).toContain(creating!.status);
    const launch = {
      imageId,
      instanceType: 'ecs.g7.large',
      vSwitchId: 'vsw-iemulator00000000',
      securityGroupIds: ['sg-emulator000000000001'],
      instanceName: 'clone-db',
      hostName: 'clone-db',
      tags: [TAG],
      clientToken: 'launch-instance',
    };
    if (creating!.status === 'Creating') {
      expect(await ecs.runInstance(launch).catch((e: unknown) => e)).toBeInstanceOf(EcsBusyError);
    }
    await until(
      () => ecs.describeImages([imageId]),
      ([i]) => i?.status === 'Available',
    );
    expect(
      await ecs
        .runInstance({ ...launch, clientToken: 'launch-other-zone', instanceType: 'ecs.c7.large' })
        .catch((e: unknown) => e),
    ).toBeInstanceOf(EcsUnsupportedError);
    const instanceId = await ecs.runInstance(launch);
    expect(await ecs.runInstance(launch)).toBe(instanceId);
    const running = await until(
      () => ecs.describeInstanceAttribute(instanceId),
      (i) => i?.status === 'Running',
    );
    expect(running).toMatchObject({
      instanceName: 'clone-db',
      zoneId: 'cn-hangzhou-i',
      instanceType: 'ecs.g7.large',
    });
    expect((await ecs.findInstancesByTag(TAG)).map((i) => i.instanceId)).toEqual([instanceId]);
    expect((await ecs.findImagesByTag(TAG)).map((i) => i.imageId)).toEqual([imageId]);
    const disks = await ecs.describeInstanceDisks(instanceId);
    expect(disks.map((d) => d.sourceSnapshotId)).toEqual([system, data]);

    await ecs.deleteInstance(instanceId);
    await ecs.deleteInstance(instanceId);
    expect(await ecs.findInstancesByTag(TAG)).toEqual([]);
    expect(await ecs.describeDisks(disks.map((d) => d.diskId))).toEqual([]);
    await ecs.deleteImage(imageId);
    await ecs.deleteImage(imageId);
    expect(await ecs.describeImages([imageId])).toEqual([]);
  });
});
