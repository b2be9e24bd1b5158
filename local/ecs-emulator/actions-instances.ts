import { checkRegion, dryRun, tagList, type Body, type Ctx, type Handler } from './context.js';
import { incorrectInstanceStatus } from './errors.js';
import { pageFields, pageLimits, paginate } from './params.js';
import { checkLock, requireInstance } from './preconditions.js';
import type { InstanceRecord } from './records.js';
import { DEFAULT_SECURITY_GROUP, vSwitchOf } from './network.js';
import { iso } from './ecs-format.js';

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
  const page = paginate(p, matching, pageLimits(100));
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
const stopInstance: Handler = (ctx) => transitionInstance(ctx, ['Running'], 'Stopping', 'Stopped');
const rebootInstance: Handler = (ctx) => transitionInstance(ctx, ['Running'], 'Starting', 'Running');

export const instanceActions: Record<string, Handler> = {
  DescribeInstances: describeInstances,
  StartInstance: startInstance,
  StopInstance: stopInstance,
  RebootInstance: rebootInstance,
};
