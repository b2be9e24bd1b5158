import { checkRegion, type Ctx, type Handler } from './context.js';
import { ESSD_FAMILY } from './disk-categories.js';
import {
  EcsApiError,
  incorrectDiskStatus,
  incorrectInstanceStatus,
  invalidParameter,
  missingParameter,
} from './errors.js';
import { validateTagsForWrite } from './params.js';
import { checkLock, checkNoSnapshotInProgress, requireDisk, requireInstance } from './preconditions.js';
import type { DiskRecord, InstanceRecord, SnapshotGroupRecord, SnapshotRecord } from './records.js';
import { checkDescription, checkName } from './snapshot-names.js';
import { newId } from './ecs-format.js';

/** Preconditions ECS checks before snapshotting one disk. */
function checkSnapshottable(ctx: Ctx, d: DiskRecord): InstanceRecord | null {
  const status = ctx.state.diskStatus(d);
  let inst: InstanceRecord | null = null;
  if (status === 'In_use' && d.instanceId) {
    inst = requireInstance(ctx, d.instanceId);
    checkLock(inst);
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
  checkNoSnapshotInProgress(ctx, d);
  let manual = 0;
  for (const sid of ctx.state.snapshotsByDisk.get(d.diskId) ?? [])
    if (ctx.state.snapshots.get(sid)) manual += 1;
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

export const snapshotCreateActions: Record<string, Handler> = {
  CreateSnapshot: createSnapshot,
  CreateSnapshotGroup: createSnapshotGroup,
};
