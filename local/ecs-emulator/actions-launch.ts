import { imageStatus, requireImage } from './actions-images.js';
import { instanceBody } from './actions-instances.js';
import { requireInstance } from './preconditions.js';
import { checkRegion, dryRun, type Ctx, type Handler } from './context.js';
import { EcsApiError, missingParameter, notFound } from './errors.js';
import { validateTagsForWrite } from './params.js';
import type { DiskRecord, InstanceRecord, MountRecord } from './records.js';
import { INSTANCE_TYPES, instanceTypesOf, securityGroups, vSwitches } from './network.js';
import { ESSD_FAMILY } from './disk-categories.js';
import { newId } from './ecs-format.js';

/**
 * RunInstances from a custom image (one instance a call here) and DescribeInstanceAttribute. The new
 * instance goes Pending -> Starting -> Running, each step lasting the async-operation time; its disks
 * are made from the image's snapshots at once, so their file trees are the snapshots' trees.
 */

const NAME = /^[A-Za-z\u4e00-\u9fa5][A-Za-z0-9\u4e00-\u9fa5_.:-]{1,127}$/;
const HOST = /^(?![.-])(?!.*[.-]{2})[A-Za-z0-9.-]{2,64}(?<![.-])$/;

function checkLaunch(ctx: Ctx) {
  const p = ctx.params;
  const image = requireImage(ctx, p.required('ImageId'));
  if (imageStatus(image, ctx.now).status !== 'Available') {
    throw new EcsApiError(
      'IncorrectImageStatus',
      'The current status of the image does not support this operation.',
      403,
    );
  }
  const instanceType = p.required('InstanceType');
  if (!(INSTANCE_TYPES as readonly string[]).includes(instanceType)) {
    throw new EcsApiError(
      'InvalidInstanceType.ValueNotSupported',
      'The specified InstanceType beyond the permitted range.',
      400,
    );
  }
  const vSwitchId = p.str('VSwitchId');
  if (!vSwitchId) throw missingParameter('VSwitchId');
  const zoneId = vSwitches(ctx.state).get(vSwitchId);
  if (!zoneId) throw notFound('InvalidVSwitchId.NotFound', 'VSwitchId');
  const askedZone = p.str('ZoneId');
  if (askedZone && askedZone !== zoneId) {
    throw new EcsApiError(
      'InvalidParameter.Mismatch',
      'Specified virtual switch is not in the specified zone.',
      400,
    );
  }
  if (!instanceTypesOf(ctx.state.settings.zones, zoneId).includes(instanceType)) {
    throw new EcsApiError(
      'InvalidInstanceType.ZoneNotSupported',
      'The specified zone does not support this instancetype.',
      403,
    );
  }
  const one = p.str('SecurityGroupId');
  const many = p.list('SecurityGroupIds', 5);
  if (one && many.length > 0) {
    throw new EcsApiError(
      'InvalidParameter.Conflict',
      'SecurityGroupId and SecurityGroupIds.N cannot be specified together.',
      400,
    );
  }
  const groups = one ? [one] : many;
  if (groups.length === 0) throw missingParameter('SecurityGroupId');
  const known = securityGroups(ctx.state);
  for (const g of groups)
    if (!known.has(g)) throw notFound('InvalidSecurityGroupId.NotFound', 'SecurityGroupId');
  const name = p.str('InstanceName');
  if (name && (!NAME.test(name) || /^https?:\/\//.test(name))) {
    throw new EcsApiError(
      'InvalidInstanceName.Malformed',
      'The specified parameter "InstanceName" is not valid.',
      400,
    );
  }
  const hostName = p.str('HostName');
  if (hostName && (!HOST.test(hostName) || (image.osType === 'windows' && hostName.length > 15))) {
    throw new EcsApiError(
      'InvalidHostName.Malformed',
      'The specified parameter "HostName" is not valid.',
      400,
    );
  }
  const amount = p.int('Amount', 1, 100) ?? 1;
  if (amount !== 1) {
    throw new EcsApiError('InvalidParameter.Amount', 'This emulator launches one instance a call.', 400);
  }
  const tags = validateTagsForWrite(p.tags());
  return { image, instanceType, vSwitchId, zoneId, groups, name, hostName, tags };
}

const runInstances: Handler = (ctx) => {
  checkRegion(ctx);
  const launch = checkLaunch(ctx);
  dryRun(ctx);
  const { image, zoneId, tags } = launch;
  const instanceId = newId('i-');
  const step = ctx.state.settings.asyncOperationMs;
  const disks: DiskRecord[] = image.mappings.map((m, i) => {
    const diskId = newId('d-');
    ctx.state.trees.restoreSnapshot(m.snapshotId, diskId);
    return {
      diskId,
      diskName: '',
      description: '',
      zoneId,
      category: m.category,
      performanceLevel: ESSD_FAMILY.has(m.category) ? 'PL1' : null,
      sizeGiB: m.sizeGiB,
      type: m.type,
      status: 'In_use',
      instanceId,
      device: m.device || `/dev/xvd${String.fromCharCode(97 + i)}`,
      pending: null,
      sourceSnapshotId: m.snapshotId,
      everAttached: true,
      usedBytes: ctx.state.snapshots.get(m.snapshotId)?.dataBytes ?? 0,
      tags: { ...tags },
      creationTime: ctx.now,
      attachedTime: ctx.now,
      detachedTime: null,
      deleteWithInstance: true,
      hasTree: true,
    };
  });
  const mounts: MountRecord[] =
    image.osType === 'windows'
      ? disks.map((d, i) => ({
          device: `\\\\?\\Volume{${d.diskId}}`,
          mountPoint: `${String.fromCharCode(67 + i)}:\\`,
          fsType: 'ntfs',
          options: 'rw',
          diskId: d.diskId,
          dynamic: false,
        }))
      : // As a seeded Linux instance: the system disk is `/`; data disks wait for a guest to mount them.
        [
          {
            device: '/dev/vda1',
            mountPoint: '/',
            fsType: 'ext4',
            options: 'rw,relatime',
            diskId: disks[0]?.diskId ?? null,
            dynamic: false,
          },
        ];
  const inst: InstanceRecord = {
    instanceId,
    instanceName: launch.name ?? instanceId,
    osType: image.osType,
    osName: image.osName,
    zoneId,
    instanceType: launch.instanceType,
    status: 'Pending',
    pending: {
      until: ctx.now + step,
      then: 'Starting',
      after: { until: ctx.now + 2 * step, then: 'Running' },
    },
    everStarted: false,
    lockReason: null,
    agentInstalled: true,
    agentInstallPending: false,
    agentResponsive: true,
    tags,
    mounts,
    creationTime: ctx.now,
    startTime: ctx.now,
    invocationCount: 0,
    lastInvokedTime: null,
    vSwitchId: launch.vSwitchId,
    securityGroupIds: launch.groups,
    ...(launch.hostName ? { hostName: launch.hostName } : {}),
    keyPairName: ctx.params.str('KeyPairName') ?? null,
    imageId: image.imageId,
  };
  ctx.state.db.batch(() => {
    for (const d of disks) ctx.state.putDisk(d);
    ctx.state.putInstance(inst);
  });
  ctx.state.trees.ensureTmp(instanceId);
  return { InstanceIdSets: { InstanceIdSet: [instanceId] }, OrderId: '', TradePrice: 0 };
};

const describeInstanceAttribute: Handler = (ctx) => {
  const r = requireInstance(ctx, ctx.params.required('InstanceId'));
  const full = instanceBody(ctx, r);
  return {
    InstanceId: full.InstanceId,
    InstanceName: full.InstanceName,
    HostName: full.HostName,
    ImageId: full.ImageId,
    InstanceType: full.InstanceType,
    RegionId: full.RegionId,
    ZoneId: full.ZoneId,
    Status: full.Status,
    Cpu: full.Cpu,
    Memory: full.Memory,
    Description: full.Description,
    InstanceNetworkType: full.InstanceNetworkType,
    CreationTime: full.CreationTime,
    VpcAttributes: full.VpcAttributes,
    SecurityGroupIds: full.SecurityGroupIds,
    InternetChargeType: full.InternetChargeType,
    OperationLocks: full.OperationLocks,
  };
};

/** Without Force only a Stopped instance goes; its disks made with it go too, the others are detached. */
const deleteInstance: Handler = (ctx) => {
  const r = requireInstance(ctx, ctx.params.required('InstanceId'));
  const force = ctx.params.bool('Force') ?? false;
  if (r.lockReason === 'security') {
    throw new EcsApiError(
      'InstanceLockedForSecurity',
      'The specified operation is denied as your instance is locked for security reasons.',
      403,
    );
  }
  if (r.status !== 'Stopped' && !(force && r.status === 'Running')) {
    throw new EcsApiError(
      'IncorrectInstanceStatus',
      `The current status of the resource does not support this operation. Instance ${r.instanceId} is ${r.status}.`,
      403,
    );
  }
  dryRun(ctx);
  ctx.state.db.batch(() => {
    for (const d of ctx.state.disksOf(r.instanceId, ctx.now)) {
      if (d.deleteWithInstance) {
        ctx.state.removeDisk(d.diskId);
        ctx.state.trees.removeDisk(d.diskId);
      } else {
        Object.assign(d, { status: 'Available', instanceId: null, device: null, pending: null });
        d.detachedTime = ctx.now;
        ctx.state.putDisk(d);
      }
    }
    ctx.state.removeInstance(r.instanceId);
  });
  return {};
};

export const launchActions: Record<string, Handler> = {
  DeleteInstance: deleteInstance,
  RunInstances: runInstances,
  DescribeInstanceAttribute: describeInstanceAttribute,
};
