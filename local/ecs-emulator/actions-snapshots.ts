import { checkRegion, tagList, type Body, type Ctx, type Handler } from './context.js';
import {
  EcsApiError,
  incorrectDiskStatus,
  incorrectInstanceStatus,
  invalidParameter,
  missingParameter,
  notFound,
} from './errors.js';
import { pageFields, paginate, validateTagsForWrite } from './params.js';
import type { DiskRecord, InstanceRecord, SnapshotGroupRecord, SnapshotRecord } from './records.js';
import { ESSD_FAMILY, iso, newId } from './state.js';
import { requireDisk, requireInstance } from './actions-inventory.js';

export function checkName(value: string | undefined, code: string, field: string, forbidAuto: boolean): void {
  if (value === undefined) return;
  if (
    value.length < 2 ||
    value.length > 128 ||
    !/^[A-Za-z\u4e00-\u9fa5]/.test(value) ||
    /^https?:\/\//.test(value) ||
    (forbidAuto && /^auto/.test(value))
  ) {
    throw new EcsApiError(code, `The specified ${field} is not valid.`, 400);
  }
}

export function checkDescription(value: string | undefined): void {
  if (value !== undefined && (value.length < 2 || value.length > 256 || /^https?:\/\//.test(value))) {
    throw new EcsApiError('InvalidDescription.Malformed', 'The specified Description is not valid.', 400);
  }
}

/** Preconditions ECS checks before snapshotting one disk. */
function checkSnapshottable(ctx: Ctx, d: DiskRecord): InstanceRecord | null {
  const status = ctx.state.diskStatus(d);
  let inst: InstanceRecord | null = null;
  if (status === 'In_use' && d.instanceId) {
    inst = requireInstance(ctx, d.instanceId);
    if (inst.lockReason === 'security') {
      throw new EcsApiError(
        'InstanceLockedForSecurity',
        'The specified operation is denied as your instance is locked for security reasons.',
        403,
      );
    }
    if (!inst.everStarted) {
      throw new EcsApiError(
        'IncorrectInstanceStatus.Initializing',
        'The instance has never been started.',
        403,
      );
    }
    if (inst.status !== 'Running' && inst.status !== 'Stopped') {
      throw incorrectInstanceStatus(`Instance ${inst.instanceId} is ${inst.status}.`);
    }
  } else if (status === 'Available') {
    if (!d.everAttached)
      throw incorrectDiskStatus(`Disk ${d.diskId} has never been attached to an instance.`);
  } else {
    throw incorrectDiskStatus(`Disk ${d.diskId} is ${status}.`);
  }
  let manual = 0;
  for (const sid of ctx.state.snapshotsByDisk.get(d.diskId) ?? []) {
    const s = ctx.state.snapshots.get(sid);
    if (!s) continue;
    manual += 1;
    if (ctx.state.snapshotView(s, ctx.now).status === 'progressing') {
      throw new EcsApiError(
        'IncorrectDiskStatus.CreatingSnapshot',
        'A previous snapshot creation is in process.',
        403,
      );
    }
  }
  if (manual >= ctx.state.settings.snapshotQuotaPerDisk) {
    throw new EcsApiError(
      'QuotaExceed.Snapshot',
      'The maximum number of snapshots of the disk is exceeded.',
      403,
    );
  }
  return inst;
}

function takeSnapshot(
  ctx: Ctx,
  d: DiskRecord,
  fields: {
    name: string;
    description: string;
    tags: Record<string, string>;
    groupId: string | null;
    retentionDays: number | null;
  },
): SnapshotRecord {
  const snapshotId = newId('s-');
  const bytes = ctx.state.trees.captureSnapshot(d.diskId, snapshotId);
  const dataBytes = d.usedBytes + bytes;
  const s: SnapshotRecord = {
    snapshotId,
    snapshotName: fields.name,
    description: fields.description,
    sourceDiskId: d.diskId,
    sourceDiskType: d.type === 'system' ? 'System' : 'Data',
    sourceDiskSizeGiB: d.sizeGiB,
    sourceDiskCategory: d.category,
    instanceId: d.instanceId,
    snapshotGroupId: fields.groupId,
    createdAt: ctx.now,
    durationMs: ctx.state.snapshotDurationMs(dataBytes),
    completedAt: null,
    failAtPercent: ctx.faults.takeSnapshotFailure(d.diskId),
    retentionDays: fields.retentionDays,
    dataBytes,
    tags: fields.tags,
    hasTree: true,
  };
  ctx.state.putSnapshot(s);
  return s;
}

const createSnapshot: Handler = (ctx) => {
  const p = ctx.params;
  const diskId = p.required('DiskId');
  const name = p.str('SnapshotName');
  checkName(name, 'InvalidSnapshotName.Malformed', 'SnapshotName', true);
  const description = p.str('Description');
  checkDescription(description);
  const retentionDays = p.int('RetentionDays', 1, 65536) ?? null;
  const tags = validateTagsForWrite(p.tags());
  const d = requireDisk(ctx, diskId);
  checkSnapshottable(ctx, d);
  const s = ctx.state.db.batch(() =>
    takeSnapshot(ctx, d, {
      name: name ?? '',
      description: description ?? '',
      tags,
      groupId: null,
      retentionDays,
    }),
  );
  return { SnapshotId: s.snapshotId };
};

const createSnapshotGroup: Handler = (ctx) => {
  checkRegion(ctx);
  const p = ctx.params;
  const include = p.list('DiskId');
  const exclude = p.list('ExcludeDiskId');
  if (include.length > 0 && exclude.length > 0) {
    throw new EcsApiError(
      'InvalidParameter.Conflict',
      'DiskId.N and ExcludeDiskId.N cannot be specified at the same time.',
      400,
    );
  }
  const instanceId = p.str('InstanceId');
  if (!instanceId && include.length === 0) throw missingParameter('InstanceId');
  const name = p.str('Name');
  checkName(name, 'InvalidName.Malformed', 'Name', false);
  const description = p.str('Description');
  checkDescription(description);
  const tags = validateTagsForWrite(p.tags());

  let disks: DiskRecord[];
  let inst: InstanceRecord | null = null;
  if (instanceId) {
    inst = requireInstance(ctx, instanceId);
    const attached = ctx.state.disksOf(instanceId, ctx.now).filter((d) => d.instanceId === instanceId);
    if (include.length > 0) {
      disks = include.map((id) => {
        const d = requireDisk(ctx, id);
        if (d.instanceId !== instanceId) {
          throw new EcsApiError(
            'InvalidDiskId.NotBelongToInstance',
            `Disk ${id} is not attached to instance ${instanceId}.`,
            403,
          );
        }
        return d;
      });
    } else {
      for (const id of exclude) requireDisk(ctx, id);
      disks = attached.filter((d) => !exclude.includes(d.diskId));
    }
  } else {
    disks = include.map((id) => requireDisk(ctx, id));
    const zones = new Set(disks.map((d) => d.zoneId));
    if (zones.size > 1) throw invalidParameter('DiskId', 'must name disks of one zone');
  }
  if (new Set(disks.map((d) => d.diskId)).size !== disks.length)
    throw invalidParameter('DiskId', 'repeats a disk');
  if (disks.length === 0) throw new EcsApiError('InvalidParameter.NoDisk', 'No disk to snapshot.', 400);
  for (const d of disks) {
    if (!ESSD_FAMILY.has(d.category)) {
      throw new EcsApiError(
        'DiskCategory.OperationNotSupported',
        `Snapshot-consistent groups support only ESSD family disks; ${d.diskId} is ${d.category}.`,
        403,
      );
    }
  }
  if (disks.length > ctx.state.settings.groupDiskLimit) {
    throw new EcsApiError(
      'InvalidParameter.DiskCount',
      `A snapshot-consistent group holds at most ${ctx.state.settings.groupDiskLimit} disks.`,
      400,
    );
  }
  for (const d of disks) checkSnapshottable(ctx, d);

  const groupId = newId('ssg-');
  const group = ctx.state.db.batch(() => {
    const snaps = disks.map((d) =>
      takeSnapshot(ctx, d, {
        name: name ?? '',
        description: description ?? '',
        tags: {},
        groupId,
        retentionDays: null,
      }),
    );
    const g: SnapshotGroupRecord = {
      snapshotGroupId: groupId,
      name: name ?? '',
      description: description ?? '',
      instanceId: inst?.instanceId ?? null,
      snapshotIds: snaps.map((s) => s.snapshotId),
      createdAt: ctx.now,
      tags,
      resourceGroupId: p.str('ResourceGroupId') ?? '',
    };
    ctx.state.putGroup(g);
    return g;
  });
  return { SnapshotGroupId: group.snapshotGroupId };
};

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
  const page = paginate(p, matching, {
    pageSizeMax: 100,
    pageSizeDefault: 10,
    maxResultsMax: 100,
    maxResultsDefault: 10,
  });
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
  const page = paginate(p, matching, {
    pageSizeMax: 100,
    pageSizeDefault: 10,
    maxResultsMax: 100,
    maxResultsDefault: 10,
    tokenOnly: true,
  });
  return {
    SnapshotGroups: { SnapshotGroup: page.items.map((g) => groupBody(ctx, g)) },
    NextToken: page.nextToken ?? '',
  };
};

/** Null when deleted; otherwise the error that kept it. */
function deleteOne(ctx: Ctx, s: SnapshotRecord, force: boolean): EcsApiError | null {
  const users = [...(ctx.state.disksBySourceSnapshot.get(s.snapshotId) ?? [])].filter((id) =>
    ctx.state.disks.get(id),
  );
  if (users.length > 0 && !force) {
    return new EcsApiError(
      'SnapshotCreatedDisk',
      'The snapshot has been used to create disks; set Force to delete it.',
      403,
    );
  }
  // Deleting a snapshot still being created cancels the creation (ECS documents this).
  ctx.state.removeSnapshot(s.snapshotId);
  return null;
}

const deleteSnapshot: Handler = (ctx) => {
  const id = ctx.params.required('SnapshotId');
  const force = ctx.params.bool('Force') ?? false;
  const s = ctx.state.snapshots.get(id);
  if (!s) return {};
  const err = deleteOne(ctx, s, force);
  if (err) throw err;
  return {};
};

const deleteSnapshotGroup: Handler = (ctx) => {
  checkRegion(ctx);
  const id = ctx.params.required('SnapshotGroupId');
  const g = ctx.state.groups.get(id);
  if (!g) throw notFound('InvalidSnapshotGroupId.NotFound', 'SnapshotGroupId');
  const progress = ctx.state.db.batch(() =>
    [...g.snapshotIds].map((sid) => {
      const s = ctx.state.snapshots.get(sid);
      const err = s ? deleteOne(ctx, s, false) : null;
      return {
        OperationStatus: err ? 'Failed' : 'Success',
        ErrorCode: err?.code ?? '',
        ErrorMsg: err?.message ?? '',
        RelatedItemSet: { RelatedItem: [{ Name: 'SnapshotId', Value: sid }] },
      };
    }),
  );
  return { OperationProgressSet: { OperationProgress: progress } };
};

export const snapshotActions: Record<string, Handler> = {
  CreateSnapshot: createSnapshot,
  CreateSnapshotGroup: createSnapshotGroup,
  DescribeSnapshots: describeSnapshots,
  DescribeSnapshotGroups: describeSnapshotGroups,
  DeleteSnapshot: deleteSnapshot,
  DeleteSnapshotGroup: deleteSnapshotGroup,
};
