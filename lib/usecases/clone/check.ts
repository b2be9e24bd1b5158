import type { ValidationIssue } from '../../domain/errors.js';
import type { PointCopy } from '../../domain/copies.js';
import type { BackupPoint, PointSource } from '../../domain/model.js';
import type { Ecs } from '../../ports/ecs.js';
import type { Deps } from '../deps.js';
import { conflict, invalid, notFound, ok, type Outcome } from '../management/outcome.js';
import type { CloneParams } from './state.js';

type CheckDeps = Pick<Deps, 'store' | 'ecs'>;

export interface CheckedClone {
  point: BackupPoint;
  /** The zone of the vSwitch: where the image's disks and the instance are made. */
  zoneId: string;
}

/** Fields a request may leave out, taken from the instance as the backup recorded it. */
export interface CloneRequest {
  instanceType?: string;
  vSwitchId?: string;
  securityGroupIds?: string[];
  instanceName?: string;
  hostname?: string;
  keyPairName?: string;
  tags?: { key: string; value: string }[];
  keepImage?: boolean;
  /** A region the backup was copied to: the clone is made from the copy there, and launched there. */
  regionId?: string;
}

/**
 * The request over the defaults: the point's recorded source, or (for a point taken before sources
 * were kept) the source instance if it still exists. A field that has neither is named.
 */
export async function cloneParamsFor(
  deps: CheckDeps,
  point: BackupPoint,
  request: CloneRequest,
): Promise<Outcome<CloneParams>> {
  let source: PointSource | null = point.source ?? null;
  if (!source && (!request.instanceType || !request.vSwitchId || !request.securityGroupIds)) {
    const [live] = await deps.ecs.describeInstances([point.instanceId]);
    if (live) {
      source = {
        instanceName: live.instanceName,
        zoneId: live.zoneId,
        osType: live.osType,
        instanceType: live.instanceType ?? null,
        vSwitchId: live.vSwitchId ?? null,
        securityGroupIds: live.securityGroupIds ?? [],
        tags: [],
      };
    }
  }
  // The source's vSwitch and security groups belong to its own region: a clone elsewhere names its own.
  const elsewhere = request.regionId !== undefined;
  const instanceType = request.instanceType ?? source?.instanceType ?? null;
  const vSwitchId = request.vSwitchId ?? (elsewhere ? null : (source?.vSwitchId ?? null));
  const securityGroupIds = request.securityGroupIds ?? (elsewhere ? [] : (source?.securityGroupIds ?? []));
  const issues: ValidationIssue[] = [];
  const why = `backup ${point.id} does not record it and ${point.instanceId} is gone: send it`;
  const whyElsewhere = `required to clone in ${request.regionId}: the backed-up instance's is in another region`;
  if (!instanceType) issues.push({ path: 'instanceType', message: why });
  if (!vSwitchId) issues.push({ path: 'vSwitchId', message: elsewhere ? whyElsewhere : why });
  if (securityGroupIds.length === 0)
    issues.push({ path: 'securityGroupIds', message: elsewhere ? whyElsewhere : why });
  const host = request.hostname;
  if (
    host &&
    source?.osType === 'windows' &&
    (host.length > 15 || host.includes('.') || /^\d+$/.test(host))
  ) {
    issues.push({
      path: 'hostname',
      message: 'a Windows host name is 2-15 letters, digits and hyphens, not all digits',
    });
  }
  if (issues.length > 0 || !instanceType || !vSwitchId) return invalid(issues);
  return ok({
    backupId: point.id,
    instanceType,
    vSwitchId,
    securityGroupIds,
    instanceName: request.instanceName ?? (source ? `${source.instanceName}-clone`.slice(0, 128) : null),
    hostName: request.hostname ?? null,
    keyPairName: request.keyPairName ?? null,
    tags: request.tags ?? source?.tags ?? [],
    keepImage: request.keepImage ?? false,
    ...(elsewhere ? { regionId: request.regionId } : {}),
  });
}

/**
 * What a clone needs that can be read before anything is written: the point usable and holding a
 * system disk, the vSwitch there, and the instance type sold in the vSwitch's zone (asked with
 * DescribeAvailableResource, as the console does before it offers a type). The API answers the
 * refusals; the job asks again when it starts, because the world may have changed meanwhile.
 */
export async function checkClone(deps: CheckDeps, params: CloneParams): Promise<Outcome<CheckedClone>> {
  const point = await deps.store.points.get(params.backupId);
  if (!point) return notFound('backup', params.backupId);
  const fromCopy = params.regionId !== undefined;
  if (point.status !== 'AVAILABLE' && !(fromCopy && point.status === 'COPIES_ONLY')) {
    return conflict(
      `backup ${point.id} is ${point.status}; only an AVAILABLE backup can be cloned` +
        (point.status === 'COPIES_ONLY' ? ': clone it from a copy (regionId)' : ''),
    );
  }
  if (!point.snapshots.some((s) => s.diskType === 'system')) {
    return conflict(
      `backup ${point.id} holds no system disk, so it cannot make an instance; restore its disks with clone-disk instead`,
    );
  }
  if (params.regionId !== undefined) {
    const copy = copyIn(point, params.regionId);
    if (!copy.ok) return copy;
  }
  const ecs = regionalEcs(deps.ecs, params.regionId);
  const [vSwitch] = await ecs.describeVSwitches([params.vSwitchId]);
  if (!vSwitch) {
    return invalid([
      { path: 'vSwitchId', message: `vSwitch ${params.vSwitchId} does not exist in ${ecs.regionId}` },
    ]);
  }
  const types = await ecs.availableInstanceTypes(vSwitch.zoneId);
  if (!types.includes(params.instanceType)) {
    const sold = types.length > 0 ? `it sells ${types.slice(0, 12).join(', ')}` : 'it sells none now';
    return invalid([
      {
        path: 'instanceType',
        message: `zone ${vSwitch.zoneId} (of vSwitch ${params.vSwitchId}) does not sell ${params.instanceType}; ${sold}`,
      },
    ]);
  }
  return ok({ point, zoneId: vSwitch.zoneId });
}

/** The backup's completed copy in `regionId`, or the refusal naming the regions that have one. */
export function copyIn(point: BackupPoint, regionId: string): Outcome<PointCopy> {
  const copy = point.copies?.find((c) => c.regionId === regionId);
  if (copy && copy.status === 'available') return ok(copy);
  const has = (point.copies ?? []).filter((c) => c.status === 'available').map((c) => c.regionId);
  return conflict(
    `backup ${point.id} has no completed copy in ${regionId}${copy ? ` (it is ${copy.status})` : ''}; ` +
      `copies available in: ${has.length > 0 ? has.join(', ') : 'none'}`,
    'regionId',
  );
}

/** ECS of `regionId` (a clone from a copy), or as given; the job's ECS is already regional. */
export function regionalEcs(ecs: Ecs, regionId: string | undefined): Ecs {
  return regionId === undefined || regionId === ecs.regionId ? ecs : ecs.forRegion(regionId);
}
