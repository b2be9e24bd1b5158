import { randomUUID } from 'node:crypto';
import type {
  CopySnapshotRequest,
  CreateSnapshotGroupRequest,
  CreateSnapshotRequest,
  EcsSnapshot,
  EcsSnapshotGroup,
  Tag,
} from '../../ports/ecs.js';
import {
  BATCH_LIMITS,
  clientToken,
  indexed,
  isNotFound,
  required,
  tagParams,
  type EcsCaller,
  type Query,
} from './caller.js';
import { ecsErrorFor } from './errors.js';
import { list, obj, parseSnapshot, parseSnapshotGroup, str, type Json } from './mappers.js';
import { presignRpcGetUrl } from './presign.js';

/** Snapshot groups and single snapshots: create, read progress, find by our tags, delete. */

export async function createSnapshotGroup(
  c: EcsCaller,
  request: CreateSnapshotGroupRequest,
): Promise<string> {
  const body = await c.rpc.call('CreateSnapshotGroup', snapshotGroupParams(c, request));
  return required(body, 'SnapshotGroupId', 'CreateSnapshotGroup');
}

export async function presignCreateSnapshotGroup(
  c: EcsCaller,
  request: CreateSnapshotGroupRequest,
): Promise<string> {
  const credentials = await c.rpc.credentials();
  return presignRpcGetUrl({
    host: c.rpc.endpoint,
    protocol: c.rpc.protocol,
    action: 'CreateSnapshotGroup',
    params: snapshotGroupParams(c, request),
    credentials,
    now: c.clock.now(),
    nonce: randomUUID(),
  });
}

export async function describeSnapshotGroups(
  c: EcsCaller,
  snapshotGroupIds: string[],
): Promise<EcsSnapshotGroup[]> {
  return c.batched(snapshotGroupIds, BATCH_LIMITS.snapshotGroupIds, (ids) =>
    c.paged('DescribeSnapshotGroups', c.region(indexed('SnapshotGroupId', ids)), parseGroups),
  );
}

export async function findSnapshotGroupsByTag(
  c: EcsCaller,
  tag: Tag,
  instanceId?: string,
): Promise<EcsSnapshotGroup[]> {
  const query = c.region(tagParams([tag]));
  if (instanceId !== undefined) query.InstanceId = instanceId;
  return c.paged('DescribeSnapshotGroups', query, parseGroups);
}

export async function deleteSnapshotGroup(c: EcsCaller, snapshotGroupId: string): Promise<void> {
  let body: Json;
  try {
    body = await c.rpc.call('DeleteSnapshotGroup', c.region({ SnapshotGroupId: snapshotGroupId }));
  } catch (err) {
    if (isNotFound(err, 'SnapshotGroup')) return;
    throw err;
  }
  // The group answer is 200 even when a member snapshot stays (it backs an image or a disk):
  // the per-snapshot result says so, and retention must record it as a failed delete.
  const failed = list(obj(body.OperationProgressSet), 'OperationProgress').filter(
    (p) => str(p.OperationStatus).toLowerCase() !== 'success' && str(p.OperationStatus) !== '',
  );
  if (failed.length > 0) {
    const first = failed[0]!;
    const code = str(first.ErrorCode) || 'SnapshotGroup.DeleteFailed';
    const items = failed
      .flatMap((p) => list(obj(p.RelatedItemSet), 'RelatedItem').map((r) => `${str(r.Name)}=${str(r.Value)}`))
      .join(', ');
    const msg = `${str(first.ErrorMsg) || 'snapshot group not fully deleted'}${items ? ` (${items})` : ''}`;
    throw ecsErrorFor(code, msg, { statusCode: 200 });
  }
}

export async function createSnapshot(c: EcsCaller, request: CreateSnapshotRequest): Promise<string> {
  const query: Query = {
    DiskId: request.diskId,
    SnapshotName: request.name,
    ClientToken: clientToken(request.clientToken),
    ...tagParams(request.tags),
  };
  if (request.description !== undefined) query.Description = request.description;
  const body = await c.rpc.call('CreateSnapshot', query);
  return required(body, 'SnapshotId', 'CreateSnapshot');
}

export async function describeSnapshots(c: EcsCaller, snapshotIds: string[]): Promise<EcsSnapshot[]> {
  return c.batched(snapshotIds, BATCH_LIMITS.snapshotIds, (ids) =>
    c.paged('DescribeSnapshots', c.region({ SnapshotIds: JSON.stringify(ids) }), parseSnapshots),
  );
}

export async function findSnapshotsByTag(c: EcsCaller, tag: Tag, diskId?: string): Promise<EcsSnapshot[]> {
  const query = c.region(tagParams([tag]));
  if (diskId !== undefined) query.DiskId = diskId;
  return c.paged('DescribeSnapshots', query, parseSnapshots);
}

export async function deleteSnapshot(c: EcsCaller, snapshotId: string, force?: boolean): Promise<void> {
  const query: Query = { SnapshotId: snapshotId };
  if (force) query.Force = 'true';
  try {
    await c.rpc.call('DeleteSnapshot', query);
  } catch (err) {
    if (!isNotFound(err, 'Snapshot')) throw err;
  }
}

function snapshotGroupParams(c: EcsCaller, request: CreateSnapshotGroupRequest): Query {
  const query: Query = c.region({
    InstanceId: request.instanceId,
    Name: request.name,
    ClientToken: clientToken(request.clientToken),
    ...indexed('DiskId', request.diskIds),
    ...tagParams(request.tags),
  });
  if (request.description !== undefined) query.Description = request.description;
  return query;
}

function parseSnapshots(body: Json): EcsSnapshot[] {
  return list(obj(body.Snapshots), 'Snapshot').map(parseSnapshot);
}

function parseGroups(body: Json): EcsSnapshotGroup[] {
  return list(obj(body.SnapshotGroups), 'SnapshotGroup').map(parseSnapshotGroup);
}

/** Copies a snapshot of this region to another; the copy's id (in the destination region). */
export async function copySnapshot(c: EcsCaller, request: CopySnapshotRequest): Promise<string> {
  const query = c.region({
    SnapshotId: request.snapshotId,
    DestinationRegionId: request.destinationRegionId,
    DestinationSnapshotName: request.name,
    DestinationSnapshotDescription: request.description ?? request.name,
    ClientToken: clientToken(request.clientToken),
    ...tagParams(request.tags),
  });
  if (request.encrypted) query.Encrypted = 'true';
  if (request.kmsKeyId !== undefined) query.KMSKeyId = request.kmsKeyId;
  const body = await c.rpc.call('CopySnapshot', query);
  return required(body, 'SnapshotId', 'CopySnapshot');
}
