import { randomUUID } from 'node:crypto';
import type { Clock } from '../../ports/clock.js';
import {
  EcsError,
  EcsNotFoundError,
  type CreateDiskRequest,
  type CreateSnapshotGroupRequest,
  type CreateSnapshotRequest,
  type Ecs,
  type EcsDisk,
  type EcsInstance,
  type EcsSnapshot,
  type EcsSnapshotGroup,
  type InvocationResult,
  type RunCommandRequest,
  type Tag,
} from '../../ports/ecs.js';
import {
  list,
  obj,
  parseDisk,
  parseInstance,
  parseInvocationResult,
  parseSnapshot,
  parseSnapshotGroup,
  str,
  type Json,
} from './mappers.js';
import { ecsErrorFor } from './errors.js';
import { presignRpcGetUrl } from './presign.js';
import type { EcsRpcClient } from './rpc-client.js';

/** Per-call id limits of the ECS API (reference: alibaba-cloud.md). */
export const BATCH_LIMITS = {
  snapshotGroupIds: 10,
  snapshotIds: 100,
  instanceIds: 100,
  diskIds: 100,
  cloudAssistantInstances: 50,
  pageSize: 100,
  /** Cloud Assistant actions page by at most 50. */
  cloudAssistantPageSize: 50,
} as const;

const MAX_PAGES = 10_000;

type Query = Record<string, string>;

export class EcsAdapter implements Ecs {
  constructor(
    private readonly rpc: EcsRpcClient,
    readonly regionId: string,
    private readonly clock: Clock,
  ) {}

  async describeInstances(instanceIds?: string[]): Promise<EcsInstance[]> {
    const parse = (body: Json) =>
      list(obj(body.Instances), 'Instance').map((i) => parseInstance(i, this.regionId));
    if (instanceIds === undefined) return this.paged('DescribeInstances', this.region({}), parse);
    return this.batched(instanceIds, BATCH_LIMITS.instanceIds, (ids) =>
      this.paged('DescribeInstances', this.region({ InstanceIds: JSON.stringify(ids) }), parse),
    );
  }

  async describeInstancesByTags(tags: Tag[], zoneId?: string): Promise<EcsInstance[]> {
    const query = this.region(tagParams(tags));
    if (zoneId !== undefined) query.ZoneId = zoneId;
    return this.paged('DescribeInstances', query, (body) =>
      list(obj(body.Instances), 'Instance').map((i) => parseInstance(i, this.regionId)),
    );
  }

  async describeInstanceDisks(instanceId: string): Promise<EcsDisk[]> {
    return this.paged('DescribeDisks', this.region({ InstanceId: instanceId }), parseDisks);
  }

  async describeDisks(diskIds: string[]): Promise<EcsDisk[]> {
    return this.batched(diskIds, BATCH_LIMITS.diskIds, (ids) =>
      this.paged('DescribeDisks', this.region({ DiskIds: JSON.stringify(ids) }), parseDisks),
    );
  }

  async createSnapshotGroup(request: CreateSnapshotGroupRequest): Promise<string> {
    const body = await this.rpc.call('CreateSnapshotGroup', this.snapshotGroupParams(request));
    return required(body, 'SnapshotGroupId', 'CreateSnapshotGroup');
  }

  async presignCreateSnapshotGroup(request: CreateSnapshotGroupRequest): Promise<string> {
    const credentials = await this.rpc.credentials();
    return presignRpcGetUrl({
      host: this.rpc.endpoint,
      protocol: this.rpc.protocol,
      action: 'CreateSnapshotGroup',
      params: this.snapshotGroupParams(request),
      credentials,
      now: this.clock.now(),
      nonce: randomUUID(),
    });
  }

  async describeSnapshotGroups(snapshotGroupIds: string[]): Promise<EcsSnapshotGroup[]> {
    return this.batched(snapshotGroupIds, BATCH_LIMITS.snapshotGroupIds, (ids) =>
      this.paged('DescribeSnapshotGroups', this.region(indexed('SnapshotGroupId', ids)), parseGroups),
    );
  }

  async findSnapshotGroupsByTag(tag: Tag, instanceId?: string): Promise<EcsSnapshotGroup[]> {
    const query = this.region(tagParams([tag]));
    if (instanceId !== undefined) query.InstanceId = instanceId;
    return this.paged('DescribeSnapshotGroups', query, parseGroups);
  }

  async deleteSnapshotGroup(snapshotGroupId: string): Promise<void> {
    let body: Json;
    try {
      body = await this.rpc.call('DeleteSnapshotGroup', this.region({ SnapshotGroupId: snapshotGroupId }));
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
        .flatMap((p) =>
          list(obj(p.RelatedItemSet), 'RelatedItem').map((r) => `${str(r.Name)}=${str(r.Value)}`),
        )
        .join(', ');
      const msg = `${str(first.ErrorMsg) || 'snapshot group not fully deleted'}${items ? ` (${items})` : ''}`;
      throw ecsErrorFor(code, msg, { statusCode: 200 });
    }
  }

  async createSnapshot(request: CreateSnapshotRequest): Promise<string> {
    const query: Query = {
      DiskId: request.diskId,
      SnapshotName: request.name,
      ClientToken: clientToken(request.clientToken),
      ...tagParams(request.tags),
    };
    if (request.description !== undefined) query.Description = request.description;
    const body = await this.rpc.call('CreateSnapshot', query);
    return required(body, 'SnapshotId', 'CreateSnapshot');
  }

  async describeSnapshots(snapshotIds: string[]): Promise<EcsSnapshot[]> {
    return this.batched(snapshotIds, BATCH_LIMITS.snapshotIds, (ids) =>
      this.paged('DescribeSnapshots', this.region({ SnapshotIds: JSON.stringify(ids) }), parseSnapshots),
    );
  }

  async findSnapshotsByTag(tag: Tag, diskId?: string): Promise<EcsSnapshot[]> {
    const query = this.region(tagParams([tag]));
    if (diskId !== undefined) query.DiskId = diskId;
    return this.paged('DescribeSnapshots', query, parseSnapshots);
  }

  async deleteSnapshot(snapshotId: string, force?: boolean): Promise<void> {
    const query: Query = { SnapshotId: snapshotId };
    if (force) query.Force = 'true';
    try {
      await this.rpc.call('DeleteSnapshot', query);
    } catch (err) {
      if (!isNotFound(err, 'Snapshot')) throw err;
    }
  }

  async createDisk(request: CreateDiskRequest): Promise<string> {
    const body = await this.rpc.call(
      'CreateDisk',
      this.region({
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

  async attachDisk(diskId: string, instanceId: string): Promise<void> {
    await this.rpc.call('AttachDisk', { InstanceId: instanceId, DiskId: diskId });
  }

  async detachDisk(diskId: string, instanceId: string): Promise<void> {
    await this.rpc.call('DetachDisk', { InstanceId: instanceId, DiskId: diskId });
  }

  async deleteDisk(diskId: string): Promise<void> {
    try {
      await this.rpc.call('DeleteDisk', { DiskId: diskId });
    } catch (err) {
      if (!isNotFound(err, 'Disk')) throw err;
    }
  }

  async resetDisk(diskId: string, snapshotId: string): Promise<void> {
    await this.rpc.call('ResetDisk', { DiskId: diskId, SnapshotId: snapshotId });
  }

  async startInstance(instanceId: string): Promise<void> {
    await this.rpc.call('StartInstance', { InstanceId: instanceId });
  }

  async stopInstance(instanceId: string): Promise<void> {
    await this.rpc.call('StopInstance', { InstanceId: instanceId });
  }

  async cloudAssistantStatus(instanceIds: string[]): Promise<Record<string, boolean>> {
    const out: Record<string, boolean> = {};
    for (const id of instanceIds) out[id] = false;
    const rows = await this.batched(instanceIds, BATCH_LIMITS.cloudAssistantInstances, (ids) =>
      this.paged(
        'DescribeCloudAssistantStatus',
        this.region(indexed('InstanceId', ids)),
        (body) => list(obj(body.InstanceCloudAssistantStatusSet), 'InstanceCloudAssistantStatus'),
        BATCH_LIMITS.cloudAssistantPageSize,
      ),
    );
    for (const row of rows) {
      const id = str(row.InstanceId);
      if (id in out) out[id] = str(row.CloudAssistantStatus).toLowerCase() === 'true';
    }
    return out;
  }

  async installCloudAssistant(instanceIds: string[]): Promise<void> {
    await this.batched(instanceIds, BATCH_LIMITS.cloudAssistantInstances, async (ids) => {
      await this.rpc.call('InstallCloudAssistant', this.region(indexed('InstanceId', ids)));
      return [];
    });
  }

  async runCommand(request: RunCommandRequest): Promise<{ invokeId: string }> {
    const body = await this.rpc.call(
      'RunCommand',
      this.region({
        Type: request.type,
        ContentEncoding: 'Base64',
        'InstanceId.1': request.instanceId,
        Timeout: String(Math.max(1, Math.round(request.timeoutSeconds))),
        Name: request.name,
        ClientToken: clientToken(request.clientToken),
      }),
      // In the body, not the query string: a 16 KB script is ~22 KB of base64, larger than many
      // servers accept in a request line.
      { body: { CommandContent: Buffer.from(request.content, 'utf8').toString('base64') } },
    );
    return { invokeId: required(body, 'InvokeId', 'RunCommand') };
  }

  async describeInvocationResults(invokeIds: string[]): Promise<InvocationResult[]> {
    const unique = [...new Set(invokeIds)];
    // DescribeInvocationResults takes one InvokeId per call.
    const perInvoke = await Promise.all(
      unique.map((invokeId) =>
        this.paged(
          'DescribeInvocationResults',
          this.region({ InvokeId: invokeId, ContentEncoding: 'Base64' }),
          (b) => list(obj(obj(b.Invocation).InvocationResults), 'InvocationResult'),
          BATCH_LIMITS.cloudAssistantPageSize,
        ),
      ),
    );
    return perInvoke.flat().map(parseInvocationResult);
  }

  private snapshotGroupParams(request: CreateSnapshotGroupRequest): Query {
    const query: Query = this.region({
      InstanceId: request.instanceId,
      Name: request.name,
      ClientToken: clientToken(request.clientToken),
      ...indexed('DiskId', request.diskIds),
      ...tagParams(request.tags),
    });
    if (request.description !== undefined) query.Description = request.description;
    return query;
  }

  private region(query: Query): Query {
    return { RegionId: this.regionId, ...query };
  }

  /** Splits ids into API-sized batches (deduplicated, order kept) and concatenates the answers. */
  private async batched<T>(
    ids: string[],
    size: number,
    fetch: (ids: string[]) => Promise<T[]>,
  ): Promise<T[]> {
    const unique = [...new Set(ids)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += size) chunks.push(unique.slice(i, i + size));
    // Concurrent: the rate limiter spaces the calls anyway, and a poll of many jobs finishes sooner.
    const results = await Promise.all(chunks.map(fetch));
    return results.flat();
  }

  /**
   * Follows `NextToken`; if the server answers in page style instead (PageNumber, PageSize,
   * TotalCount and no token), continues by page number.
   */
  private async paged<T>(
    action: string,
    query: Query,
    extract: (body: Json) => T[],
    pageSize: number = BATCH_LIMITS.pageSize,
  ): Promise<T[]> {
    const out: T[] = [];
    const seenTokens = new Set<string>();
    let nextToken = '';
    let pageNumber = 0;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const q: Query = { ...query };
      if (pageNumber > 0) {
        q.PageNumber = String(pageNumber);
        q.PageSize = String(pageSize);
      } else {
        q.MaxResults = String(pageSize);
        if (nextToken !== '') q.NextToken = nextToken;
      }
      const body = await this.rpc.call(action, q);
      const items = extract(body);
      out.push(...items);
      const token = str(body.NextToken);
      if (token !== '' && !seenTokens.has(token)) {
        seenTokens.add(token);
        nextToken = token;
        pageNumber = 0;
        continue;
      }
      const total = Number(body.TotalCount);
      const number = Number(body.PageNumber);
      const size = Number(body.PageSize);
      if (token === '' && items.length > 0 && number > 0 && size > 0 && number * size < total) {
        pageNumber = number + 1;
        pageSize = size;
        continue;
      }
      return out;
    }
    throw new EcsError('TooManyPages', `${action}: more than ${MAX_PAGES} pages`);
  }
}

function parseDisks(body: Json): EcsDisk[] {
  return list(obj(body.Disks), 'Disk').map(parseDisk);
}

function parseSnapshots(body: Json): EcsSnapshot[] {
  return list(obj(body.Snapshots), 'Snapshot').map(parseSnapshot);
}

function parseGroups(body: Json): EcsSnapshotGroup[] {
  return list(obj(body.SnapshotGroups), 'SnapshotGroup').map(parseSnapshotGroup);
}

/** `Name.1`, `Name.2`, ... as the RPC style repeats list parameters. */
function indexed(name: string, values: string[]): Query {
  const out: Query = {};
  values.forEach((v, i) => (out[`${name}.${i + 1}`] = v));
  return out;
}

function tagParams(tags: Tag[]): Query {
  const out: Query = {};
  tags.forEach((t, i) => {
    out[`Tag.${i + 1}.Key`] = t.key;
    out[`Tag.${i + 1}.Value`] = t.value;
  });
  return out;
}

/** ECS accepts up to 64 ASCII characters; refusing here beats an opaque InvalidParameter later. */
function clientToken(token: string): string {
  if (token === '' || token.length > 64 || !/^[\x20-\x7e]+$/.test(token)) {
    throw ecsErrorFor('InvalidClientToken', `ClientToken must be 1-64 printable ASCII characters`);
  }
  return token;
}

function required(body: Json, field: string, action: string): string {
  const v = str(body[field]);
  if (v === '')
    throw new EcsError('InvalidResponse', `${action} answered without ${field}`, { statusCode: 200 });
  return v;
}

/** Deleting what is already gone succeeds: retries and repeated retention sweeps must converge. */
function isNotFound(err: unknown, resource: string): boolean {
  return err instanceof EcsNotFoundError && err.code.includes(resource);
}
