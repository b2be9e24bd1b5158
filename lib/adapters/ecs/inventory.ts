import type { CreateDiskRequest, EcsDisk, EcsInstance, Tag } from '../../ports/ecs.js';
import { BATCH_LIMITS, clientToken, isNotFound, required, tagParams, type EcsCaller } from './caller.js';
import { list, obj, parseDisk, parseInstance, type Json } from './mappers.js';

/** Instances and disks: what exists, and the disk and power operations restore and mount need. */

export async function describeInstances(c: EcsCaller, instanceIds?: string[]): Promise<EcsInstance[]> {
  const parse = (body: Json) =>
    list(obj(body.Instances), 'Instance').map((i) => parseInstance(i, c.regionId));
  if (instanceIds === undefined) return c.paged('DescribeInstances', c.region({}), parse);
  return c.batched(instanceIds, BATCH_LIMITS.instanceIds, (ids) =>
    c.paged('DescribeInstances', c.region({ InstanceIds: JSON.stringify(ids) }), parse),
  );
}

/** Instances carrying every one of `tags` (Tag.N filters), 100 a page. */
export async function describeInstancesByTags(
  c: EcsCaller,
  tags: Tag[],
  zoneId?: string,
): Promise<EcsInstance[]> {
  const query = c.region(tagParams(tags));
  if (zoneId !== undefined) query.ZoneId = zoneId;
  return c.paged('DescribeInstances', query, (body) =>
    list(obj(body.Instances), 'Instance').map((i) => parseInstance(i, c.regionId)),
  );
}

export async function describeInstanceDisks(c: EcsCaller, instanceId: string): Promise<EcsDisk[]> {
  return c.paged('DescribeDisks', c.region({ InstanceId: instanceId }), parseDisks);
}

export async function describeDisks(c: EcsCaller, diskIds: string[]): Promise<EcsDisk[]> {
  return c.batched(diskIds, BATCH_LIMITS.diskIds, (ids) =>
    c.paged('DescribeDisks', c.region({ DiskIds: JSON.stringify(ids) }), parseDisks),
  );
}

export async function createDisk(c: EcsCaller, request: CreateDiskRequest): Promise<string> {
  const body = await c.rpc.call(
    'CreateDisk',
    c.region({
      ZoneId: request.zoneId,
      SnapshotId: request.snapshotId,
      DiskCategory: request.category,
      DiskName: request.name,
      ClientToken: clientToken(request.clientToken),
      ...tagParams(request.tags),
    }),
  );
  return required(body, 'DiskId', 'CreateDisk');
}

export async function attachDisk(c: EcsCaller, diskId: string, instanceId: string): Promise<void> {
  await c.rpc.call('AttachDisk', { InstanceId: instanceId, DiskId: diskId });
}

export async function detachDisk(c: EcsCaller, diskId: string, instanceId: string): Promise<void> {
  await c.rpc.call('DetachDisk', { InstanceId: instanceId, DiskId: diskId });
}

export async function deleteDisk(c: EcsCaller, diskId: string): Promise<void> {
  try {
    await c.rpc.call('DeleteDisk', { DiskId: diskId });
  } catch (err) {
    if (!isNotFound(err, 'Disk')) throw err;
  }
}

export async function resetDisk(c: EcsCaller, diskId: string, snapshotId: string): Promise<void> {
  await c.rpc.call('ResetDisk', { DiskId: diskId, SnapshotId: snapshotId });
}

export async function startInstance(c: EcsCaller, instanceId: string): Promise<void> {
  await c.rpc.call('StartInstance', { InstanceId: instanceId });
}

export async function stopInstance(c: EcsCaller, instanceId: string): Promise<void> {
  await c.rpc.call('StopInstance', { InstanceId: instanceId });
}

function parseDisks(body: Json): EcsDisk[] {
  return list(obj(body.Disks), 'Disk').map(parseDisk);
}

export async function findDisksByTag(c: EcsCaller, tag: Tag): Promise<EcsDisk[]> {
  return c.paged('DescribeDisks', c.region(tagParams([tag])), parseDisks);
}
