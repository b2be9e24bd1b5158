import type { Ecs, EcsDisk, EcsInstance } from '../../lib/ports/ecs.js';

/**
 * Inventory-only ECS for tests that need a failing or specially shaped cloud; the route tests use the
 * emulator through the real adapter. Snapshot operations are not needed by the management routes.
 */
export function inventoryEcs(instances: EcsInstance[], disks: EcsDisk[], overrides: Partial<Ecs> = {}): Ecs {
  const unsupported = () => Promise.reject(new Error('not part of the inventory fake'));
  const base: Ecs = {
    regionId: 'cn-hangzhou',
    describeInstances: async (ids) =>
      ids === undefined ? instances : instances.filter((i) => ids.includes(i.instanceId)),
    describeInstanceDisks: async (id) => disks.filter((d) => d.instanceId === id),
    describeDisks: async (ids) => disks.filter((d) => ids.includes(d.diskId)),
    cloudAssistantStatus: async (ids) => Object.fromEntries(ids.map((id) => [id, true])),
    createSnapshotGroup: unsupported,
    presignCreateSnapshotGroup: unsupported,
    describeSnapshotGroups: unsupported,
    findSnapshotGroupsByTag: unsupported,
    deleteSnapshotGroup: unsupported,
    createSnapshot: unsupported,
    describeSnapshots: unsupported,
    findSnapshotsByTag: unsupported,
    deleteSnapshot: unsupported,
    createDisk: unsupported,
    attachDisk: unsupported,
    detachDisk: unsupported,
    deleteDisk: unsupported,
    resetDisk: unsupported,
    startInstance: unsupported,
    stopInstance: unsupported,
    installCloudAssistant: unsupported,
    runCommand: unsupported,
    describeInvocationResults: unsupported,
  };
  return { ...base, ...overrides };
}

export function linuxInstance(instanceId: string): EcsInstance {
  return {
    instanceId,
    instanceName: `vm-${instanceId}`,
    status: 'Running',
    osType: 'linux',
    osName: 'Alibaba Cloud Linux 3',
    zoneId: 'cn-hangzhou-h',
    regionId: 'cn-hangzhou',
    tags: [],
  };
}

export function essdDisk(diskId: string, instanceId: string, type: 'system' | 'data' = 'system'): EcsDisk {
  return {
    diskId,
    diskName: diskId,
    instanceId,
    zoneId: 'cn-hangzhou-h',
    type,
    category: 'cloud_essd',
    sizeGiB: 40,
    status: 'In_use',
    device: type === 'system' ? '/dev/xvda' : '/dev/xvdb',
    tags: [],
    sourceSnapshotId: null,
  };
}
