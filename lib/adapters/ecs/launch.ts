import {
  EcsNotFoundError,
  type CreateImageRequest,
  type EcsImage,
  type EcsInstance,
  type EcsVSwitch,
  type RunInstanceRequest,
  type Tag,
} from '../../ports/ecs.js';
import { ecsErrorFor } from './errors.js';
import { list, obj, parseInstance, parseProgress, parseTags, str, type Json } from './mappers.js';

/**
 * The calls a clone of a whole instance makes: custom images, launching from one, releasing it,
 * and what the API checks first (the zone's instance types, the vSwitch). Kept apart from the
 * snapshot and disk calls of `adapter.ts`; the adapter delegates here.
 */

export const VPC_API_VERSION = '2016-04-28';

type Query = Record<string, string>;

export interface LaunchRpc {
  regionId: string;
  call(action: string, query: Query): Promise<Json>;
  /** Calls to the VPC API (version 2016-04-28). */
  callVpc(action: string, query: Query): Promise<Json>;
  /** Every page of a NextToken-style listing. */
  paged<T>(action: string, query: Query, extract: (body: Json) => T[]): Promise<T[]>;
}

/** Every image status: DescribeImages lists only Available ones unless told. */
const ALL_IMAGE_STATUSES = 'Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated';
const IMAGES_PER_CALL = 100;
const MAX_PAGES = 1000;

/** `ecs.<region>.aliyuncs.com` -> `vpc.<region>.aliyuncs.com`; any other endpoint (the emulator) serves VPC too. */
export function vpcEndpointFor(endpoint: string, regionId: string): string {
  return /(^|\/\/)ecs[.-]/.test(endpoint) && endpoint.includes('aliyuncs.com')
    ? `vpc.${regionId}.aliyuncs.com`
    : endpoint;
}

function tagParams(tags: Tag[]): Query {
  const out: Query = {};
  tags.forEach((t, i) => {
    out[`Tag.${i + 1}.Key`] = t.key;
    out[`Tag.${i + 1}.Value`] = t.value;
  });
  return out;
}

function parseImage(raw: Json): EcsImage {
  return {
    imageId: str(raw.ImageId),
    imageName: str(raw.ImageName),
    status: str(raw.Status),
    progress: parseProgress(raw.Progress),
    tags: parseTags(raw.Tags),
    snapshotIds: list(obj(raw.DiskDeviceMappings), 'DiskDeviceMapping')
      .sort((a, b) => (str(a.Type) === 'system' ? -1 : str(b.Type) === 'system' ? 1 : 0))
      .map((m) => str(m.SnapshotId))
      .filter((id) => id !== ''),
  };
}

export async function createImage(rpc: LaunchRpc, request: CreateImageRequest): Promise<string> {
  const query: Query = {
    RegionId: rpc.regionId,
    ImageName: request.name,
    ClientToken: request.clientToken,
    'DiskDeviceMapping.1.SnapshotId': request.systemSnapshotId,
    'DiskDeviceMapping.1.DiskType': 'system',
    ...tagParams(request.tags),
  };
  request.dataSnapshotIds.forEach((id, i) => {
    query[`DiskDeviceMapping.${i + 2}.SnapshotId`] = id;
    query[`DiskDeviceMapping.${i + 2}.DiskType`] = 'data';
  });
  if (request.description !== undefined) query.Description = request.description;
  const body = await rpc.call('CreateImage', query);
  return required(body, 'ImageId', 'CreateImage');
}

/** DescribeImages pages by number only. */
async function images(rpc: LaunchRpc, filter: Query): Promise<EcsImage[]> {
  const out: EcsImage[] = [];
  for (let page = 1; page <= MAX_PAGES; page += 1) {
    const body = await rpc.call('DescribeImages', {
      RegionId: rpc.regionId,
      ImageOwnerAlias: 'self',
      Status: ALL_IMAGE_STATUSES,
      PageNumber: String(page),
      PageSize: String(IMAGES_PER_CALL),
      ...filter,
    });
    const items = list(obj(body.Images), 'Image').map(parseImage);
    out.push(...items);
    if (items.length < IMAGES_PER_CALL || page * IMAGES_PER_CALL >= Number(body.TotalCount)) return out;
  }
  return out;
}

export async function describeImages(rpc: LaunchRpc, imageIds: string[]): Promise<EcsImage[]> {
  const unique = [...new Set(imageIds)];
  const out: EcsImage[] = [];
  for (let i = 0; i < unique.length; i += IMAGES_PER_CALL) {
    out.push(...(await images(rpc, { ImageId: unique.slice(i, i + IMAGES_PER_CALL).join(',') })));
  }
  return out;
}

export function findImagesByTag(rpc: LaunchRpc, tag: Tag): Promise<EcsImage[]> {
  return images(rpc, tagParams([tag]));
}

export async function deleteImage(rpc: LaunchRpc, imageId: string): Promise<void> {
  try {
    await rpc.call('DeleteImage', { RegionId: rpc.regionId, ImageId: imageId });
  } catch (err) {
    if (!(err instanceof EcsNotFoundError && err.code.startsWith('InvalidImageId'))) throw err;
  }
}

export async function runInstance(rpc: LaunchRpc, request: RunInstanceRequest): Promise<string> {
  const query: Query = {
    RegionId: rpc.regionId,
    ImageId: request.imageId,
    InstanceType: request.instanceType,
    VSwitchId: request.vSwitchId,
    InstanceChargeType: 'PostPaid',
    Amount: '1',
    ClientToken: request.clientToken,
    ...tagParams(request.tags),
  };
  request.securityGroupIds.forEach((g, i) => (query[`SecurityGroupIds.${i + 1}`] = g));
  if (request.instanceName) query.InstanceName = request.instanceName;
  if (request.hostName) query.HostName = request.hostName;
  if (request.keyPairName) query.KeyPairName = request.keyPairName;
  const body = await rpc.call('RunInstances', query);
  const raw = obj(body.InstanceIdSets).InstanceIdSet;
  const id = Array.isArray(raw) ? str(raw[0]) : str(raw);
  if (id === '') throw ecsErrorFor('InvalidResponse', 'RunInstances answered without an instance id');
  return id;
}

export function findInstancesByTag(rpc: LaunchRpc, tag: Tag): Promise<EcsInstance[]> {
  return rpc.paged('DescribeInstances', { RegionId: rpc.regionId, ...tagParams([tag]) }, (body) =>
    list(obj(body.Instances), 'Instance').map((i) => parseInstance(i, rpc.regionId)),
  );
}

export async function describeInstanceAttribute(
  rpc: LaunchRpc,
  instanceId: string,
): Promise<EcsInstance | null> {
  try {
    return parseInstance(
      await rpc.call('DescribeInstanceAttribute', { InstanceId: instanceId }),
      rpc.regionId,
    );
  } catch (err) {
    if (err instanceof EcsNotFoundError && err.code.startsWith('InvalidInstanceId')) return null;
    throw err;
  }
}

export async function availableInstanceTypes(rpc: LaunchRpc, zoneId: string): Promise<string[]> {
  const body = await rpc.call('DescribeAvailableResource', {
    RegionId: rpc.regionId,
    DestinationResource: 'InstanceType',
    ZoneId: zoneId,
    InstanceChargeType: 'PostPaid',
  });
  const out = new Set<string>();
  for (const zone of list(obj(body.AvailableZones), 'AvailableZone')) {
    if (str(zone.ZoneId) !== zoneId) continue;
    for (const resource of list(obj(zone.AvailableResources), 'AvailableResource')) {
      if (str(resource.Type) !== 'InstanceType') continue;
      for (const r of list(obj(resource.SupportedResources), 'SupportedResource')) {
        if (str(r.Status) === 'Available') out.add(str(r.Value));
      }
    }
  }
  return [...out].sort();
}

export async function describeVSwitches(rpc: LaunchRpc, vSwitchIds: string[]): Promise<EcsVSwitch[]> {
  const out: EcsVSwitch[] = [];
  for (const id of new Set(vSwitchIds)) {
    const body = await rpc.callVpc('DescribeVSwitches', { RegionId: rpc.regionId, VSwitchId: id });
    for (const v of list(obj(body.VSwitches), 'VSwitch')) {
      if (str(v.VSwitchId) === id) out.push({ vSwitchId: id, zoneId: str(v.ZoneId) });
    }
  }
  return out;
}

/** Force: a clone that reached Running is released without stopping it first. Gone already is fine. */
export async function deleteInstance(rpc: LaunchRpc, instanceId: string): Promise<void> {
  try {
    await rpc.call('DeleteInstance', { InstanceId: instanceId, Force: 'true' });
  } catch (err) {
    if (!(err instanceof EcsNotFoundError && err.code.startsWith('InvalidInstanceId'))) throw err;
  }
}

function required(body: Json, field: string, action: string): string {
  const v = str(body[field]);
  if (v === '') throw ecsErrorFor('InvalidResponse', `${action} answered without ${field}`);
  return v;
}
