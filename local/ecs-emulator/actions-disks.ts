import { checkRegion, tagList, type Body, type Ctx, type Handler } from './context.js';
import { DISK_CATEGORIES, ESSD_FAMILY } from './disk-categories.js';
import {
  EcsApiError,
  incorrectDiskStatus,
  incorrectInstanceStatus,
  missingParameter,
  notFound,
} from './errors.js';
import { pageFields, pageLimits, paginate, validateTagsForWrite } from './params.js';
import { checkLock, requireDisk, requireInstance } from './preconditions.js';
import type { DiskRecord } from './records.js';
import { iso, newId } from './ecs-format.js';

export function diskBody(ctx: Ctx, d: DiskRecord): Body {
  const status = ctx.state.diskStatus(d);
  const attachedTo = d.instanceId ?? d.pending?.then.instanceId ?? '';
  const device = d.device ?? d.pending?.then.device ?? '';
  return {
    DiskId: d.diskId,
    DiskName: d.diskName,
    Description: d.description,
    RegionId: ctx.state.settings.regionId,
    ZoneId: d.zoneId,
    Category: d.category,
    PerformanceLevel: d.performanceLevel ?? '',
    Size: d.sizeGiB,
    Type: d.type,
    Status: status,
    InstanceId: attachedTo,
    Device: device,
    SourceSnapshotId: d.sourceSnapshotId ?? '',
    CreationTime: iso(d.creationTime),
    AttachedTime: d.attachedTime ? iso(d.attachedTime) : '',
    DetachedTime: d.detachedTime ? iso(d.detachedTime) : '',
    DeleteWithInstance: d.deleteWithInstance,
    DeleteAutoSnapshot: false,
    EnableAutoSnapshot: false,
    Portable: d.type === 'data',
    Encrypted: false,
    DiskChargeType: 'PostPaid',
    MultiAttach: 'Disabled',
    SerialNumber: d.diskId.slice(2),
    Attachments: {
      Attachment: d.instanceId
        ? [
            {
              InstanceId: d.instanceId,
              Device: d.device ?? '',
              AttachedTime: iso(d.attachedTime ?? d.creationTime),
            },
          ]
        : [],
    },
    Tags: tagList(d.tags, 'TagKey'),
    OperationLocks: { OperationLock: [] },
  };
}

const describeDisks: Handler = (ctx) => {
  checkRegion(ctx);
  const p = ctx.params;
  const ids = p.jsonList('DiskIds', 100, 'InvalidDiskIds.Malformed');
  const instanceId = p.str('InstanceId');
  const status = p.str('Status');
  const category = p.str('Category');
  const diskType = p.str('DiskType');
  const zone = p.str('ZoneId');
  const snapshotId = p.str('SnapshotId');
  const tagged = ctx.state.idsWithTags('disk', p.tags());
  let candidates: string[];
  if (ids) candidates = ids;
  else if (instanceId) candidates = [...(ctx.state.disksByInstance.get(instanceId) ?? [])];
  else
    candidates = ctx.state.disks
      .newestFirst()
      .map((d) => d.diskId)
      .reverse();
  const matching: DiskRecord[] = [];
  for (const id of candidates) {
    const d = ctx.state.disk(id, ctx.now);
    if (!d) continue;
    if (instanceId && d.instanceId !== instanceId && d.pending?.then.instanceId !== instanceId) continue;
    if (status && status !== 'All' && ctx.state.diskStatus(d) !== status) continue;
    if (category && category !== 'all' && d.category !== category) continue;
    if (diskType && diskType !== 'all' && d.type !== diskType) continue;
    if (zone && d.zoneId !== zone) continue;
    if (snapshotId && d.sourceSnapshotId !== snapshotId) continue;
    if (tagged && !tagged.has(d.diskId)) continue;
    matching.push(d);
  }
  if (instanceId) {
    matching.sort((a, b) =>
      a.type !== b.type ? (a.type === 'system' ? -1 : 1) : (a.device ?? '').localeCompare(b.device ?? ''),
    );
  }
  const page = paginate(p, matching, { ...pageLimits(100), maxResultsMax: 500 });
  return { Disks: { Disk: page.items.map((d) => diskBody(ctx, d)) }, ...pageFields(page) };
};

const createDisk: Handler = (ctx) => {
  checkRegion(ctx);
  const p = ctx.params;
  const zoneId = p.str('ZoneId');
  if (!zoneId) throw missingParameter('ZoneId');
  if (!ctx.state.settings.zones.includes(zoneId)) throw notFound('InvalidZoneId.NotFound', 'ZoneId');
  const category = p.str('DiskCategory') ?? 'cloud';
  if (!DISK_CATEGORIES.includes(category)) {
    throw new EcsApiError(
      'InvalidDiskCategory.ValueNotSupported',
      `The specified DiskCategory ${category} is not supported.`,
      400,
    );
  }
  const snapshotId = p.str('SnapshotId');
  let size = p.int('Size', 1, 65536);
  let sourceBytes = 0;
  if (snapshotId) {
    const s = ctx.state.snapshots.get(snapshotId);
    if (!s) throw notFound('InvalidSnapshotId.NotFound', 'snapshot');
    if (ctx.state.snapshotView(s, ctx.now).status !== 'accomplished') {
      throw new EcsApiError('InvalidSnapshot.NotReady', 'The specified snapshot has not completed yet.', 403);
    }
    if (size !== undefined && size < s.sourceDiskSizeGiB) {
      throw new EcsApiError(
        'InvalidSize.ValueNotSupported',
        'The size must not be smaller than the snapshot source disk.',
        400,
      );
    }
    size = size ?? s.sourceDiskSizeGiB;
    sourceBytes = s.dataBytes;
  }
  if (size === undefined) throw missingParameter('Size');
  const name = p.str('DiskName') ?? '';
  if (name && (name.length < 2 || name.length > 128 || !/^[A-Za-z\u4e00-\u9fa5]/.test(name))) {
    throw new EcsApiError('InvalidDiskName.Malformed', 'The specified DiskName is not valid.', 400);
  }
  const tags = validateTagsForWrite(p.tags());
  const diskId = newId('d-');
  const d: DiskRecord = {
    diskId,
    diskName: name,
    description: p.str('Description') ?? '',
    zoneId,
    category,
    performanceLevel: ESSD_FAMILY.has(category) ? (p.str('PerformanceLevel') ?? 'PL1') : null,
    sizeGiB: size,
    type: 'data',
    status: 'Available',
    instanceId: null,
    device: null,
    pending: {
      status: 'Creating',
      until: ctx.now + ctx.state.settings.asyncOperationMs,
      then: { status: 'Available', instanceId: null, device: null },
    },
    sourceSnapshotId: snapshotId ?? null,
    everAttached: false,
    usedBytes: sourceBytes,
    tags,
    creationTime: ctx.now,
    attachedTime: null,
    detachedTime: null,
    deleteWithInstance: false,
    hasTree: true,
  };
  if (snapshotId) ctx.state.trees.restoreSnapshot(snapshotId, diskId);
  else ctx.state.trees.ensureDisk(diskId);
  ctx.state.putDisk(d);
  return { DiskId: diskId, OrderId: '' };
};

function nextDevice(ctx: Ctx, instanceId: string): string {
  const used = new Set(ctx.state.disksOf(instanceId, ctx.now).map((d) => d.pending?.then.device ?? d.device));
  for (let c = 'b'.charCodeAt(0); c <= 'z'.charCodeAt(0); c++) {
    const dev = `/dev/xvd${String.fromCharCode(c)}`;
    if (!used.has(dev)) return dev;
  }
  throw new EcsApiError(
    'InstanceDiskLimitExceeded',
    'The instance has reached its limit of attached disks.',
    403,
  );
}

const attachDisk: Handler = (ctx) => {
  const p = ctx.params;
  const inst = requireInstance(ctx, p.required('InstanceId'));
  const d = requireDisk(ctx, p.required('DiskId'));
  checkLock(inst);
  if (ctx.state.diskStatus(d) !== 'Available')
    throw incorrectDiskStatus(`Disk ${d.diskId} is ${ctx.state.diskStatus(d)}.`);
  if (!['Running', 'Stopped'].includes(inst.status))
    throw incorrectInstanceStatus(`Instance ${inst.instanceId} is ${inst.status}.`);
  if (d.zoneId !== inst.zoneId) {
    throw new EcsApiError(
      'InstanceDiskZoneMismatch',
      'The specified disk and instance are not in the same zone.',
      403,
    );
  }
  const device = nextDevice(ctx, inst.instanceId);
  d.pending = {
    status: 'Attaching',
    until: ctx.now + ctx.state.settings.asyncOperationMs,
    then: { status: 'In_use', instanceId: inst.instanceId, device },
  };
  d.attachedTime = null;
  d.deleteWithInstance = p.bool('DeleteWithInstance') ?? false;
  ctx.state.putDisk(d);
  return {};
};

const detachDisk: Handler = (ctx) => {
  const p = ctx.params;
  const inst = requireInstance(ctx, p.required('InstanceId'));
  const d = requireDisk(ctx, p.required('DiskId'));
  checkLock(inst);
  if (ctx.state.diskStatus(d) !== 'In_use' || d.instanceId !== inst.instanceId) {
    throw incorrectDiskStatus(`Disk ${d.diskId} is not in use by ${inst.instanceId}.`);
  }
  const allowed = d.type === 'system' ? ['Stopped'] : ['Running', 'Stopped'];
  if (!allowed.includes(inst.status))
    throw incorrectInstanceStatus(`Instance ${inst.instanceId} is ${inst.status}.`);
  d.pending = {
    status: 'Detaching',
    until: ctx.now + ctx.state.settings.asyncOperationMs,
    then: { status: 'Available', instanceId: null, device: null },
  };
  d.detachedTime = ctx.now;
  ctx.state.putDisk(d);
  // The guest loses whatever it had mounted from this disk.
  const before = inst.mounts.length;
  inst.mounts = inst.mounts.filter((m) => !(m.dynamic && m.diskId === d.diskId));
  if (inst.mounts.length !== before) ctx.state.putInstance(inst);
  return {};
};

const deleteDisk: Handler = (ctx) => {
  const d = requireDisk(ctx, ctx.params.required('DiskId'));
  if (ctx.state.diskStatus(d) !== 'Available')
    throw incorrectDiskStatus(`Disk ${d.diskId} is ${ctx.state.diskStatus(d)}.`);
  ctx.state.removeDisk(d.diskId);
  ctx.state.trees.removeDisk(d.diskId);
  return {};
};

export const diskActions: Record<string, Handler> = {
  DescribeDisks: describeDisks,
  CreateDisk: createDisk,
  AttachDisk: attachDisk,
  DetachDisk: detachDisk,
  DeleteDisk: deleteDisk,
};
