import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ecs, REGION, ecsError, startHarness, waitFor, type Harness } from './helpers.js';

/** Custom images and launching instances from them, through the official SDK. */
describe('ECS emulator: CreateImage, DescribeImages, DeleteImage, RunInstances', () => {
  let h: Harness;
  let systemSnap = '';
  let dataSnap = '';
  beforeAll(async () => {
    h = await startHarness({ snapshotBaseMs: 0, snapshotSpeedBytesPerSec: 0 });
    const snap = async (diskId: string) =>
      (await h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId, snapshotName: `img-${diskId}` })))
        .body!.snapshotId!;
    systemSnap = await snap('d-demoweb01sys');
    dataSnap = await snap('d-demoweb01data');
    await h.emu.admin.completeSnapshots({});
  });
  afterAll(async () => {
    await h.stop();
  });

  const imageOf = async (imageId: string, status = 'Creating,Available') =>
    (
      await h.ecs.describeImages(
        new Ecs.DescribeImagesRequest({ regionId: REGION, imageId, status, imageOwnerAlias: 'self' }),
      )
    ).body?.images?.image?.[0];

  const createImage = (token: string, name: string) =>
    h.ecs.createImage(
      new Ecs.CreateImageRequest({
        regionId: REGION,
        imageName: name,
        clientToken: token,
        diskDeviceMapping: [
          new Ecs.CreateImageRequestDiskDeviceMapping({ snapshotId: systemSnap, diskType: 'system' }),
          new Ecs.CreateImageRequestDiskDeviceMapping({ snapshotId: dataSnap, diskType: 'data' }),
        ],
        tag: [new Ecs.CreateImageRequestTag({ key: 'ecs-backup:job', value: 'job-1' })],
      }),
    );

  const launch = (imageId: string, overrides: Partial<Record<string, unknown>> = {}) =>
    h.ecs.runInstances(
      new Ecs.RunInstancesRequest({
        regionId: REGION,
        imageId,
        instanceType: 'ecs.g7.large',
        vSwitchId: 'vsw-hemulator00000000',
        securityGroupIds: ['sg-emulator000000000001'],
        instanceName: 'clone-of-web',
        hostName: 'clone-web',
        tag: [new Ecs.RunInstancesRequestTag({ key: 'ecs-backup:job', value: 'job-1' })],
        clientToken: 'launch-1',
        ...overrides,
      }),
    );

  it('an image is Creating with progress, hidden from the default listing, then Available', async () => {
    await h.emu.admin.setAsyncOperationMs({ ms: 3_600_000 });
    const imageId = (await createImage('tok-a', 'clone-a')).body!.imageId!;
    await h.emu.admin.setAsyncOperationMs({ ms: 100 });
    const creating = await imageOf(imageId);
    expect(creating).toMatchObject({ status: 'Creating', imageOwnerAlias: 'self' });
    expect(creating?.progress).toMatch(/^\d+%$/);
    expect(await imageOf(imageId, 'Available')).toBeUndefined();
    // The same token answers the first image; a busy image refuses deletion and launches.
    expect((await createImage('tok-a', 'clone-a')).body!.imageId).toBe(imageId);
    expect(
      await ecsError(h.ecs.deleteImage(new Ecs.DeleteImageRequest({ regionId: REGION, imageId }))),
    ).toMatchObject({
      code: 'IncorrectImageStatus',
      statusCode: 403,
    });
    expect(await ecsError(launch(imageId))).toMatchObject({ code: 'IncorrectImageStatus', statusCode: 403 });
    expect(await h.emu.admin.completeOperations()).toBeGreaterThanOrEqual(1);
    const ready = await imageOf(imageId, 'Available');
    expect(ready).toMatchObject({ status: 'Available', progress: '100%' });
    expect(ready?.diskDeviceMappings?.diskDeviceMapping?.map((m) => [m.type, m.snapshotId])).toEqual([
      ['system', systemSnap],
      ['data', dataSnap],
    ]);
    await h.ecs.deleteImage(new Ecs.DeleteImageRequest({ regionId: REGION, imageId }));
    expect(await imageOf(imageId)).toBeUndefined();
    expect(
      await ecsError(h.ecs.deleteImage(new Ecs.DeleteImageRequest({ regionId: REGION, imageId }))),
    ).toMatchObject({
      code: 'InvalidImageId.NotFound',
      statusCode: 404,
    });
  });

  it('refuses a snapshot that does not exist and a duplicate name', async () => {
    const missing = h.ecs.createImage(new Ecs.CreateImageRequest({ regionId: REGION, snapshotId: 's-nope' }));
    expect(await ecsError(missing)).toMatchObject({ code: 'InvalidSnapshotId.NotFound', statusCode: 404 });
    await createImage('tok-dup', 'clone-dup');
    expect(await ecsError(createImage('tok-dup2', 'clone-dup'))).toMatchObject({
      code: 'InvalidImageName.Duplicated',
    });
  });

  it('filters images by tag and pages them', async () => {
    await createImage('tok-b', 'clone-b');
    const tagged = await h.ecs.describeImages(
      new Ecs.DescribeImagesRequest({
        regionId: REGION,
        status: 'Creating,Available',
        tag: [new Ecs.DescribeImagesRequestTag({ key: 'ecs-backup:job', value: 'job-1' })],
        pageSize: 1,
      }),
    );
    expect(tagged.body?.totalCount).toBe(2);
    expect(tagged.body?.images?.image).toHaveLength(1);
    const other = await h.ecs.describeImages(
      new Ecs.DescribeImagesRequest({
        regionId: REGION,
        status: 'Creating,Available',
        tag: [new Ecs.DescribeImagesRequestTag({ key: 'ecs-backup:job', value: 'job-2' })],
      }),
    );
    expect(other.body?.totalCount).toBe(0);
  });

  it('refuses launches it cannot make, naming what is wrong', async () => {
    const imageId = (await createImage('tok-c', 'clone-c')).body!.imageId!;
    await waitFor(async () => ((await imageOf(imageId))?.status === 'Available' ? true : undefined));
    const cases: [Partial<Record<string, unknown>>, string, number][] = [
      [{ imageId: 'm-missing' }, 'InvalidImageId.NotFound', 404],
      [{ instanceType: 'ecs.nope.large' }, 'InvalidInstanceType.ValueNotSupported', 400],
      [
        { instanceType: 'ecs.c7.large', vSwitchId: 'vsw-iemulator00000000' },
        'InvalidInstanceType.ZoneNotSupported',
        403,
      ],
      [{ vSwitchId: 'vsw-missing' }, 'InvalidVSwitchId.NotFound', 404],
      [{ securityGroupIds: ['sg-missing'] }, 'InvalidSecurityGroupId.NotFound', 404],
      [{ hostName: '-bad-' }, 'InvalidHostName.Malformed', 400],
    ];
    for (const [overrides, code, statusCode] of cases) {
      expect(await ecsError(launch(imageId, { clientToken: undefined, ...overrides })), code).toMatchObject({
        code,
        statusCode,
      });
    }
    const zones = await h.ecs.describeAvailableResource(
      new Ecs.DescribeAvailableResourceRequest({ regionId: REGION, destinationResource: 'InstanceType' }),
    );
    const offered = Object.fromEntries(
      (zones.body?.availableZones?.availableZone ?? []).map((z) => [
        z.zoneId,
        z.availableResources?.availableResource?.[0]?.supportedResources?.supportedResource?.map(
          (r) => r.value,
        ),
      ]),
    );
    expect(offered['cn-hangzhou-h']).toContain('ecs.c7.large');
    expect(offered['cn-hangzhou-i']).not.toContain('ecs.c7.large');
  });

  it('launches an instance whose disks hold the snapshots file trees', async () => {
    const imageId = (await createImage('tok-d', 'clone-d')).body!.imageId!;
    await waitFor(async () => ((await imageOf(imageId))?.status === 'Available' ? true : undefined));
    const first = await launch(imageId, { clientToken: 'launch-d' });
    const instanceId = first.body!.instanceIdSets!.instanceIdSet![0]!;
    expect((await launch(imageId, { clientToken: 'launch-d' })).body!.instanceIdSets!.instanceIdSet).toEqual([
      instanceId,
    ]);
    const seen = new Set<string>();
    await waitFor(
      async () => {
        const a = await h.ecs.describeInstanceAttribute(
          new Ecs.DescribeInstanceAttributeRequest({ instanceId }),
        );
        seen.add(a.body!.status!);
        return a.body!.status === 'Running' ? true : undefined;
      },
      15_000,
      10,
    );
    expect(seen.has('Running')).toBe(true);
    expect([...seen].every((s) => ['Pending', 'Starting', 'Running'].includes(s))).toBe(true);
    const attr = (
      await h.ecs.describeInstanceAttribute(new Ecs.DescribeInstanceAttributeRequest({ instanceId }))
    ).body!;
    expect(attr).toMatchObject({
      instanceType: 'ecs.g7.large',
      instanceName: 'clone-of-web',
      hostName: 'clone-web',
      imageId,
      zoneId: 'cn-hangzhou-h',
    });
    expect(attr.vpcAttributes?.vSwitchId).toBe('vsw-hemulator00000000');
    expect(attr.securityGroupIds?.securityGroupId).toEqual(['sg-emulator000000000001']);
    const disks = await h.ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION, instanceId }));
    const list = disks.body?.disks?.disk ?? [];
    expect(list.map((d) => [d.type, d.sourceSnapshotId])).toEqual([
      ['system', systemSnap],
      ['data', dataSnap],
    ]);
    expect(list.every((d) => d.tags?.tag?.some((t) => t.tagKey === 'ecs-backup:job'))).toBe(true);
    for (const d of list) {
      const files = await h.emu.admin.listFiles({ diskId: d.diskId! });
      expect(files.length).toBeGreaterThan(0);
      expect(files).toEqual(await h.emu.admin.listFiles({ snapshotId: d.sourceSnapshotId! }));
    }
    const missing = h.ecs.describeInstanceAttribute(
      new Ecs.DescribeInstanceAttributeRequest({ instanceId: 'i-none' }),
    );
    expect(await ecsError(missing)).toMatchObject({ code: 'InvalidInstanceId.NotFound', statusCode: 404 });
  });
});
