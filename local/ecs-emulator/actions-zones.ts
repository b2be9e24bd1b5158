import { checkRegion, type Handler } from './context.js';
import { DISK_CATEGORIES } from './disk-categories.js';
import { instanceTypesOf } from './network.js';

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

export const zoneActions: Record<string, Handler> = {
  DescribeRegions: describeRegions,
  DescribeZones: describeZones,
};
