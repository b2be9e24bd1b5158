import { checkRegion, dryRun, tagList, type Body, type Ctx, type Handler } from './context.js';
import {
  EcsApiError,
  incorrectDiskStatus,
  incorrectInstanceStatus,
  missingParameter,
  notFound,
} from './errors.js';
import { pageFields, paginate, validateTagsForWrite } from './params.js';
import type { DiskRecord, InstanceRecord } from './records.js';
import { DEFAULT_SECURITY_GROUP, instanceTypesOf, vSwitchOf } from './network.js';
import { ESSD_FAMILY, iso, newId } from './state.js';

const DISK_CATEGORIES = [
  'cloud',
  'cloud_efficiency',
  'cloud_ssd',
  'cloud_essd',
  'cloud_auto',
  'cloud_essd_entry',
];

export function instanceBody(ctx: Ctx, r: InstanceRecord): Body {
  const region = ctx.state.settings.regionId;
  return {
    InstanceId: r.instanceId,
    InstanceName: r.instanceName,
    HostName: r.hostName ?? r.instanceName,
    Description: '',
    RegionId: region,
    ZoneId: r.zoneId,
    Status: r.status,
    OSType: r.osType,
    OSName: r.osName,
    OSNameEn: r.osName,
    InstanceType: r.instanceType,
    Cpu: 2,
    Memory: 4096,
    ImageId:
      r.imageId ??
      (r.osType === 'windows'
        ? 'win2022_21H2_x64_dtc_en-us_40G_alibase_20240101.vhd'
        : 'aliyun_3_x64_20G_alibase_20240101.vhd'),
    InstanceNetworkType: 'vpc',
    InstanceChargeType: 'PostPaid',
    InternetChargeType: 'PayByTraffic',
    CreationTime: iso(r.creationTime).replace(/:\d{2}Z$/, 'Z'),
    StartTime: iso(r.startTime).replace(/:\d{2}Z$/, 'Z'),
    ExpiredTime: '2099-12-31T15:59Z',
    SerialNumber: r.instanceId.slice(2),
    DeletionProtection: false,
    StoppedMode: r.status === 'Stopped' ? 'KeepCharging' : 'Not-applicable',
    VpcAttributes: {
      VpcId: 'vpc-emulator0000000000',
      VSwitchId: r.vSwitchId ?? vSwitchOf(r.zoneId),
      PrivateIpAddress: { IpAddress: [`172.16.0.${(r.instanceId.charCodeAt(3) % 200) + 10}`] },
    },
    SecurityGroupIds: { SecurityGroupId: r.securityGroupIds ?? [DEFAULT_SECURITY_GROUP] },
    Tags: tagList(r.tags, 'TagKey'),
    OperationLocks: { LockReason: r.lockReason ? [{ LockReason: r.lockReason, LockMsg: '' }] : [] },
  };
}

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

export function requireInstance(ctx: Ctx, id: string): InstanceRecord {
  const r = ctx.state.instance(id, ctx.now);
  if (!r) throw notFound('InvalidInstanceId.NotFound', 'InstanceId');
  return r;
}

export function requireDisk(ctx: Ctx, id: string): DiskRecord {
  const r = ctx.state.disk(id, ctx.now);
  if (!r) throw notFound('InvalidDiskId.NotFound', 'disk');
  return r;
}

function checkLock(r: InstanceRecord): void {
  if (r.lockReason === 'security') {
    throw new EcsApiError(
      'InstanceLockedForSecurity',
      'The specified operation is denied as your instance is locked for security reasons.',
      403,
    );
  }
}

const describeRegions: Handler = (ctx) => {
  return {
    Regions: {
      Region: ctx.regions.ids().map((id) => ({
        RegionId: id,
        LocalName: id,
        RegionEndpoint: `ecs.${id}.aliyuncs.com`,
        Status: 'available',
      })),
    },
  };
};

const describeZones: Handler = (ctx) => {
  checkRegion(ctx);
  return {
    Zones: {
      Zone: ctx.state.settings.zones.map((z) => ({
        ZoneId: z,
        LocalName: z,
        ZoneType: 'AvailabilityZone',
        AvailableDiskCategories: { DiskCategories: DISK_CATEGORIES },
        AvailableResourceCreation: { ResourceTypes: ['Instance', 'Disk', 'DedicatedHost'] },
        AvailableInstanceTypes: { InstanceTypes: instanceTypesOf(ctx.state.settings.zones, z) },
      })),
    },
  };
};

const describeInstances: Handler = (ctx) => {
  checkRegion(ctx);
  const p = ctx.params;
  const ids = p.jsonList('InstanceIds', 100, 'InvalidInstanceIds.Malformed');
  const status = p.str('Status');
  const zone = p.str('ZoneId');
  const name = p.str('InstanceName');
  const tagged = ctx.state.idsWithTags('instance', p.tags());
  // Zone, name and tags do not move with a pending transition: only a Status filter needs every
  // candidate settled, otherwise just the page is; with no filter at all a page costs a copy of the
  // ordered list, so reading a region of 10,000 instances 100 a page stays cheap.
  let matching: InstanceRecord[];
  if (!ids && !status && !zone && !name && !tagged) {
    matching = [...ctx.state.instances.newestFirst()].reverse();
  } else {
    matching = [];
    const candidates = ids ? ids.map((id) => ctx.state.instances.get(id)) : ctx.state.instances.byId.values();
    for (const raw of candidates) {
      if (!raw || (zone && raw.zoneId !== zone) || (name && raw.instanceName !== name)) continue;
      if (tagged && !tagged.has(raw.instanceId)) continue;
      const r = status ? (ctx.state.instance(raw.instanceId, ctx.now) as InstanceRecord) : raw;
      if (!status || r.status === status) matching.push(r);
    }
  }
  const page = paginate(p, matching, {
    pageSizeMax: 100,
    pageSizeDefault: 10,
    maxResultsMax: 100,
    maxResultsDefault: 10,
  });
  const settled = page.items.map((r) => ctx.state.instance(r.instanceId, ctx.now) as InstanceRecord);
  return { Instances: { Instance: settled.map((r) => instanceBody(ctx, r)) }, ...pageFields(page) };
};

function transitionInstance(
  ctx: Ctx,
  from: InstanceRecord['status'][],
  via: InstanceRecord['status'],
  to: InstanceRecord['status'],
): Body {
  const r = requireInstance(ctx, ctx.params.required('InstanceId'));
  checkLock(r);
  if (!from.includes(r.status)) throw incorrectInstanceStatus(`Instance ${r.instanceId} is ${r.status}.`);
  dryRun(ctx);
  r.status = via;
  r.pending = { until: ctx.now + ctx.state.settings.asyncOperationMs, then: to };
  ctx.state.putInstance(r);
  return {};
}

const startInstance: Handler = (ctx) => transitionInstance(ctx, ['Stopped'], 'Starting', 'Running');
const stopInstance: Handler = (ctx) => {
  const body = transitionInstance(ctx, ['Running'], 'Stopping', 'Stopped');
  return body;
};
const rebootInstance: Handler = (ctx) => transitionInstance(ctx, ['Running'], 'Starting', 'Running');

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
  const page = paginate(p, matching, {
    pageSizeMax: 100,
    pageSizeDefault: 10,
    maxResultsMax: 500,
    maxResultsDefault: 10,
  });
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

/** Shared by ResetDisk and ResetDisks: every precondition, no change. */
function checkReset(ctx: Ctx, diskId: string, snapshotId: string): DiskRecord {
  const d = requireDisk(ctx, diskId);
  const s = ctx.state.snapshots.get(snapshotId);
  if (!s) throw notFound('InvalidSnapshotId.NotFound', 'snapshot');
  if (s.sourceDiskId !== d.diskId) {
    throw new EcsApiError(
      'InvalidSnapshotId.NotBelongToDisk',
      `Snapshot ${snapshotId} was not created from disk ${diskId}.`,
      403,
    );
  }
  if (ctx.state.snapshotView(s, ctx.now).status !== 'accomplished') {
    throw new EcsApiError('InvalidSnapshot.NotReady', 'The specified snapshot has not completed yet.', 403);
  }
  const status = ctx.state.diskStatus(d);
  if (status !== 'In_use' && status !== 'Available')
    throw incorrectDiskStatus(`Disk ${diskId} is ${status}.`);
  if (d.instanceId) {
    const inst = requireInstance(ctx, d.instanceId);
    checkLock(inst);
    if (inst.status !== 'Stopped')
      throw incorrectInstanceStatus(`Instance ${inst.instanceId} must be Stopped, it is ${inst.status}.`);
  }
  for (const sid of ctx.state.snapshotsByDisk.get(d.diskId) ?? []) {
    const other = ctx.state.snapshots.get(sid);
    if (other && ctx.state.snapshotView(other, ctx.now).status === 'progressing') {
      throw new EcsApiError(
        'IncorrectDiskStatus.CreatingSnapshot',
        'A previous snapshot creation is in process.',
        403,
      );
    }
  }
  return d;
}

function applyReset(ctx: Ctx, d: DiskRecord, snapshotId: string): void {
  ctx.state.trees.restoreSnapshot(snapshotId, d.diskId);
  d.pending = {
    status: 'ReIniting',
    until: ctx.now + ctx.state.settings.asyncOperationMs,
    then: { status: d.status, instanceId: d.instanceId, device: d.device },
  };
  ctx.state.putDisk(d);
}

const resetDisk: Handler = (ctx) => {
  const snapshotId = ctx.params.required('SnapshotId');
  const d = checkReset(ctx, ctx.params.required('DiskId'), snapshotId);
  dryRun(ctx);
  applyReset(ctx, d, snapshotId);
  return {};
};

const resetDisks: Handler = (ctx) => {
  checkRegion(ctx);
  const pairs = ctx.params.objects('Disk', 10);
  if (pairs.length === 0) throw missingParameter('Disk.1.DiskId');
  const checked = pairs.map((pair) => {
    const diskId = pair['DiskId'];
    const snapshotId = pair['SnapshotId'];
    if (!diskId) throw missingParameter('Disk.N.DiskId');
    if (!snapshotId) throw missingParameter('Disk.N.SnapshotId');
    return { d: checkReset(ctx, diskId, snapshotId), snapshotId };
  });
  dryRun(ctx);
  for (const { d, snapshotId } of checked) applyReset(ctx, d, snapshotId);
  return {
    OperationProgressSet: {
      OperationProgress: checked.map(({ d, snapshotId }) => ({
        OperationStatus: 'Success',
        ErrorCode: '',
        ErrorMsg: '',
        RelatedItemSet: {
          RelatedItem: [
            { Name: 'DiskId', Value: d.diskId },
            { Name: 'SnapshotId', Value: snapshotId },
          ],
        },
      })),
    },
  };
};

export const inventoryActions: Record<string, Handler> = {
  DescribeRegions: describeRegions,
  DescribeZones: describeZones,
  DescribeInstances: describeInstances,
  StartInstance: startInstance,
  StopInstance: stopInstance,
  RebootInstance: rebootInstance,
  DescribeDisks: describeDisks,
  CreateDisk: createDisk,
  AttachDisk: attachDisk,
  DetachDisk: detachDisk,
  DeleteDisk: deleteDisk,
  ResetDisk: resetDisk,
  ResetDisks: resetDisks,
};
