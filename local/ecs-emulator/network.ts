import { checkRegion, type Ctx, type Handler } from './context.js';
import { EcsApiError, missingParameter } from './errors.js';
import { pageFields, pageLimits, paginate } from './params.js';
import type { EcsState } from './state.js';

/**
 * What a launch needs besides an image: one vSwitch per zone, one security group, and the instance
 * types each zone sells. The first zone sells every type; the others only the two general-purpose
 * ones, so "a type the zone lacks" can be tried without configuring anything.
 */

export const DEFAULT_SECURITY_GROUP = 'sg-emulator000000000001';

export const INSTANCE_TYPES = [
  'ecs.g7.large',
  'ecs.g7.xlarge',
  'ecs.g7.2xlarge',
  'ecs.c7.large',
  'ecs.r7.large',
] as const;

const EVERY_ZONE_TYPES = ['ecs.g7.large', 'ecs.g7.xlarge'];

/** The vSwitch of a zone, as instances have always reported it (`vsw-<zone letter>emulator...`). */
export function vSwitchOf(zoneId: string): string {
  return `vsw-${zoneId.slice(-1)}emulator00000000`;
}

export function instanceTypesOf(zones: readonly string[], zoneId: string): string[] {
  if (!zones.includes(zoneId)) return [];
  return zoneId === zones[0] ? [...INSTANCE_TYPES] : [...EVERY_ZONE_TYPES];
}

/** vSwitch id -> zone: the zones' own plus any an instance was seeded with (in the instance's zone). */
export function vSwitches(state: EcsState): Map<string, string> {
  const out = new Map(state.settings.zones.map((z) => [vSwitchOf(z), z]));
  for (const r of state.instances.byId.values()) if (r.vSwitchId) out.set(r.vSwitchId, r.zoneId);
  return out;
}

export function securityGroups(state: EcsState): Set<string> {
  const out = new Set([DEFAULT_SECURITY_GROUP]);
  for (const r of state.instances.byId.values()) for (const g of r.securityGroupIds ?? []) out.add(g);
  return out;
}

/**
 * DescribeAvailableResource for `DestinationResource=InstanceType` (the only kind asked here): what
 * each zone (or the one named) sells, with stock.
 */
const describeAvailableResource: Handler = (ctx: Ctx) => {
  checkRegion(ctx);
  const p = ctx.params;
  const destination = p.str('DestinationResource');
  if (!destination) throw missingParameter('DestinationResource');
  if (destination !== 'InstanceType') {
    throw new EcsApiError(
      'InvalidDestinationResource.ValueNotSupported',
      `The specified DestinationResource ${destination} is not supported.`,
      400,
    );
  }
  const zones = ctx.state.settings.zones;
  const zoneId = p.str('ZoneId');
  const wanted = p.str('InstanceType');
  const selected = zoneId ? zones.filter((z) => z === zoneId) : zones;
  return {
    AvailableZones: {
      AvailableZone: selected.map((z) => ({
        RegionId: ctx.state.settings.regionId,
        ZoneId: z,
        Status: 'Available',
        StatusCategory: 'WithStock',
        AvailableResources: {
          AvailableResource: [
            {
              Type: 'InstanceType',
              SupportedResources: {
                SupportedResource: instanceTypesOf(zones, z)
                  .filter((t) => !wanted || t === wanted)
                  .map((t) => ({ Value: t, Status: 'Available', StatusCategory: 'WithStock' })),
              },
            },
          ],
        },
      })),
    },
  };
};

export const VPC_API_VERSION = '2016-04-28';

/** VPC's DescribeVSwitches (API 2016-04-28), served beside ECS as the local cloud has no VPC endpoint. */
const describeVSwitches: Handler = (ctx: Ctx) => {
  checkRegion(ctx);
  const p = ctx.params;
  const id = p.str('VSwitchId');
  const zone = p.str('ZoneId');
  const all = [...vSwitches(ctx.state)]
    .filter(([v, z]) => (!id || v === id) && (!zone || z === zone))
    .map(([v, z]) => ({
      VSwitchId: v,
      VpcId: 'vpc-emulator0000000000',
      ZoneId: z,
      Status: 'Available',
      CidrBlock: `172.16.${(z.charCodeAt(z.length - 1) % 200) + 1}.0/24`,
      VSwitchName: `emulator-${z}`,
    }));
  const page = paginate(p, all, pageLimits(50));
  return { VSwitches: { VSwitch: page.items }, ...pageFields(page) };
};

export const networkActions: Record<string, Handler> = {
  DescribeAvailableResource: describeAvailableResource,
};

export const vpcActions: Record<string, Handler> = {
  DescribeVSwitches: describeVSwitches,
};
