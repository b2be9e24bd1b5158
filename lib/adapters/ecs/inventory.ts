import type { CreateDiskRequest, EcsDisk, EcsInstance, Tag } from '../../ports/ecs.js';
import { BATCH_LIMITS, clientToken, isNotFound, required, tagParams, type EcsCaller } from './caller.js';
import { list, obj, parseDisk, parseInstance, type Json } from './mappers.js';
import { TAG_FILTER_CAP, TagFilterCapReached, listInstanceIdsByTags, tagListingMemo } from './tag-listing.js';

/** Instances and disks: what exists, and the disk and power operations restore and mount need. */

export async function describeInstances(c: EcsCaller, instanceIds?: string[]): Promise<EcsInstance[]> {
  const parse = (body: Json) => parseInstances(c, body);
  if (instanceIds === undefined) return c.paged('DescribeInstances', c.region({}), parse);
  return c.batched(instanceIds, BATCH_LIMITS.instanceIds, (ids) =>
    c.paged('DescribeInstances', c.region({ InstanceIds: JSON.stringify(ids) }), parse),
  );
}

/**
 * Instances carrying every one of `tags`: DescribeInstances with `Tag.N` filters, 100 a page. Past
 * the documented tag-filter cap (see tag-listing.ts) either the ids come from ListTagResources and
 * the details from DescribeInstances by InstanceIds, 100 a call, or, when that cost more last time
 * than reading the whole region 100 a page, the region is read and filtered here. The filtered call
 * carries no ZoneId: the cap counts instances with the tags in every zone, so a zoned answer below
 * the cap could still be cut short without saying so; the zone is applied to what comes back.
 */
export async function describeInstancesByTags(
  c: EcsCaller,
  tags: Tag[],
  zoneId?: string,
): Promise<EcsInstance[]> {
  const memo = tagListingMemo(c, JSON.stringify(tags.map((t) => [t.key, t.value])));
  const wanted = (i: EcsInstance) =>
    tags.every((t) => i.tags.some((x) => x.key === t.key && x.value === t.value));
  const inZone = (i: EcsInstance) => zoneId === undefined || i.zoneId === zoneId;
  if (!memo.overCap) {
    try {
      let seen = 0;
      const found = await c.paged('DescribeInstances', c.region(tagParams(tags)), (body) => {
        const page = parseInstances(c, body);
        seen += page.length;
        // TotalCount says it on the first page; the running count covers an answer without it.
        if (Number(body.TotalCount) >= TAG_FILTER_CAP || seen >= TAG_FILTER_CAP)
          throw new TagFilterCapReached();
        return page;
      });
      return found.filter(inZone);
    } catch (err) {
      if (!(err instanceof TagFilterCapReached)) throw err;
      memo.overCap = true;
    }
  }
  let matching: EcsInstance[];
  const scanCalls = memo.regionTotal === undefined ? Infinity : Math.ceil(memo.regionTotal / 100);
  if (memo.listCalls !== undefined && scanCalls < memo.listCalls) {
    const all = await c.paged('DescribeInstances', c.region({}), (body) => parseInstances(c, body));
    memo.regionTotal = all.length;
    matching = all.filter(wanted);
  } else {
    const listed = await listInstanceIdsByTags(c, tags);
    memo.listCalls = listed.pages + Math.ceil(listed.ids.length / BATCH_LIMITS.instanceIds);
    memo.regionTotal ??= await regionInstanceCount(c);
    const found = await describeInstances(c, listed.ids);
    // ListTagResources and DescribeInstances are two reads: keep only what still carries the tags.
    matching = found.filter(wanted);
  }
  memo.overCap = matching.length >= TAG_FILTER_CAP;
  return matching.filter(inZone);
}

/** TotalCount of an unfiltered DescribeInstances: one call, one instance. */
async function regionInstanceCount(c: EcsCaller): Promise<number | undefined> {
  const body = await c.rpc.call('DescribeInstances', c.region({ MaxResults: '1' }));
  const total = Number(body.TotalCount);
  return Number.isFinite(total) ? total : undefined;
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

function parseInstances(c: EcsCaller, body: Json): EcsInstance[] {
  return list(obj(body.Instances), 'Instance').map((i) => parseInstance(i, c.regionId));
}

function parseDisks(body: Json): EcsDisk[] {
  return list(obj(body.Disks), 'Disk').map(parseDisk);
}

export async function findDisksByTag(c: EcsCaller, tag: Tag): Promise<EcsDisk[]> {
  return c.paged('DescribeDisks', c.region(tagParams([tag])), parseDisks);
}
