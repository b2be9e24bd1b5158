import { checkRegion, tagList, type Body, type Ctx, type Handler } from './context.js';
import { invalidParameter } from './errors.js';
import { pageFields, pageLimits, paginate } from './params.js';
import type { SnapshotGroupRecord, SnapshotRecord } from './records.js';
import { iso } from './ecs-format.js';

export function snapshotBody(ctx: Ctx, s: SnapshotRecord): Body {
  const v = ctx.state.snapshotView(s, ctx.now);
  const usedBy = ctx.state.disksBySourceSnapshot.get(s.snapshotId)?.size ?? 0;
  return {
    SnapshotId: s.snapshotId,
    SnapshotName: s.snapshotName,
    Description: s.description,
    Status: v.status,
    Progress: `${v.progress}%`,
    RemainTime: v.remainSeconds,
    Available: v.status === 'accomplished',
    CreationTime: iso(s.createdAt),
    LastModifiedTime: iso(s.createdAt),
    SourceDiskId: s.sourceDiskId,
    SourceDiskSize: String(s.sourceDiskSizeGiB),
    SourceDiskType: s.sourceDiskType,
    SourceStorageType: 'disk',
    SnapshotType: 'user',
    Category: 'standard',
    Usage: usedBy > 0 ? 'disk' : 'none',
    RetentionDays: s.retentionDays ?? 0,
    Encrypted: s.encrypted ?? false,
    KMSKeyId: s.kmsKeyId ?? '',
    SourceSnapshotId: s.copiedFrom?.snapshotId ?? '',
    SourceRegionId: s.copiedFrom?.regionId ?? '',
    InstantAccess: false,
    InstantAccessRetentionDays: 0,
    RegionId: ctx.state.settings.regionId,
    SnapshotSN: s.snapshotId.slice(2),
    ProductCode: '',
    ResourceGroupId: '',
    Tags: tagList(s.tags, 'TagKey'),
  };
}

function newestFirst<T extends { createdAt: number }>(list: T[]): T[] {
  return list.sort((a, b) => b.createdAt - a.createdAt);
}

const STATUSES = ['progressing', 'accomplished', 'failed', 'all'];

const describeSnapshots: Handler = (ctx) => {
  checkRegion(ctx);
  const p = ctx.params;
  const ids = p.jsonList('SnapshotIds', 100, 'InvalidSnapshotIds.Malformed');
  const diskId = p.str('DiskId');
  const instanceId = p.str('InstanceId');
  const status = p.str('Status') ?? 'all';
  if (!STATUSES.includes(status)) throw invalidParameter('Status');
  const name = p.str('SnapshotName');
  const sourceType = p.str('SourceDiskType')?.toLowerCase();
  const usage = p.str('Usage');
  const snapshotType = p.str('SnapshotType');
  const tagged = ctx.state.idsWithTags('snapshot', p.tags());

  // Start from the smallest index that applies; a large tag set is cheaper to test than to sort.
  let candidates: Iterable<SnapshotRecord>;
  const byDisk = diskId ? (ctx.state.snapshotsByDisk.get(diskId) ?? new Set<string>()) : null;
  if (ids) {
    candidates = ids
      .map((id) => ctx.state.snapshots.get(id))
      .filter((s): s is SnapshotRecord => s !== undefined);
  } else if (byDisk && (!tagged || byDisk.size <= tagged.size)) {
    candidates = newestFirst([...byDisk].map((id) => ctx.state.snapshots.get(id) as SnapshotRecord));
  } else if (tagged && tagged.size <= 1000) {
    candidates = newestFirst([...tagged].map((id) => ctx.state.snapshots.get(id) as SnapshotRecord));
  } else {
    candidates = ctx.state.snapshots.newestFirst();
  }
  const matching: SnapshotRecord[] = [];
  for (const s of candidates) {
    if (diskId && s.sourceDiskId !== diskId) continue;
    if (instanceId && s.instanceId !== instanceId) continue;
    if (tagged && !tagged.has(s.snapshotId)) continue;
    if (name && s.snapshotName !== name) continue;
    if (sourceType && sourceType !== 'all' && s.sourceDiskType.toLowerCase() !== sourceType) continue;
    if (snapshotType && snapshotType !== 'all' && snapshotType !== 'user') continue;
    if (usage) {
      const used = (ctx.state.disksBySourceSnapshot.get(s.snapshotId)?.size ?? 0) > 0 ? 'disk' : 'none';
      if (usage !== used) continue;
    }
    if (status !== 'all' && ctx.state.snapshotView(s, ctx.now).status !== status) continue;
    matching.push(s);
  }
  const page = paginate(p, matching, pageLimits(100));
  return { Snapshots: { Snapshot: page.items.map((s) => snapshotBody(ctx, s)) }, ...pageFields(page) };
};

function groupBody(ctx: Ctx, g: SnapshotGroupRecord): Body {
  const status = ctx.state.groupStatus(g, ctx.now);
  return {
    SnapshotGroupId: g.snapshotGroupId,
    Name: g.name,
    Description: g.description,
    InstanceId: g.instanceId ?? '',
    CreationTime: iso(g.createdAt),
    Status: status,
    ProgressStatus: status,
    ResourceGroupId: g.resourceGroupId,
    Snapshots: {
      Snapshot: g.snapshotIds
        .map((id) => ctx.state.snapshots.get(id))
        .filter((s): s is SnapshotRecord => s !== undefined)
        .map((s) => {
          const v = ctx.state.snapshotView(s, ctx.now);
          return {
            SnapshotId: s.snapshotId,
            SourceDiskId: s.sourceDiskId,
            SourceDiskType: s.sourceDiskType,
            Progress: `${v.progress}%`,
            Available: v.status === 'accomplished',
            InstantAccess: false,
            InstantAccessRetentionDays: 0,
            Tags: tagList(s.tags, 'Key'),
          };
        }),
    },
    Tags: tagList(g.tags, 'Key'),
  };
}

const describeSnapshotGroups: Handler = (ctx) => {
  checkRegion(ctx);
  const p = ctx.params;
  const ids = p.list('SnapshotGroupId', 10);
  const instanceId = p.str('InstanceId');
  const statuses = p.list('Status', 3);
  for (const s of statuses)
    if (!['progressing', 'accomplished', 'failed'].includes(s)) throw invalidParameter('Status');
  const name = p.str('Name');
  const tagged = ctx.state.idsWithTags('snapshotgroup', p.tags());
  let candidates: SnapshotGroupRecord[];
  if (ids.length > 0) {
    candidates = ids
      .map((id) => ctx.state.groups.get(id))
      .filter((g): g is SnapshotGroupRecord => g !== undefined);
  } else if (instanceId) {
    candidates = newestFirst(
      [...(ctx.state.groupsByInstance.get(instanceId) ?? [])].map(
        (id) => ctx.state.groups.get(id) as SnapshotGroupRecord,
      ),
    );
  } else if (tagged && tagged.size <= 1000) {
    candidates = newestFirst([...tagged].map((id) => ctx.state.groups.get(id) as SnapshotGroupRecord));
  } else {
    candidates = ctx.state.groups.newestFirst();
  }
  const matching = candidates.filter(
    (g) =>
      (!instanceId || g.instanceId === instanceId) &&
      (!tagged || tagged.has(g.snapshotGroupId)) &&
      (!name || g.name === name) &&
      (statuses.length === 0 || statuses.includes(ctx.state.groupStatus(g, ctx.now))),
  );
  const page = paginate(p, matching, { ...pageLimits(100), tokenOnly: true });
  return {
    SnapshotGroups: { SnapshotGroup: page.items.map((g) => groupBody(ctx, g)) },
    NextToken: page.nextToken ?? '',
  };
};

export const snapshotDescribeActions: Record<string, Handler> = {
  DescribeSnapshots: describeSnapshots,
  DescribeSnapshotGroups: describeSnapshotGroups,
};
