import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiskRecord, InstanceRecord, MountRecord } from './records.js';
import { ESSD_FAMILY } from './disk-categories.js';
import { newId } from './ecs-format.js';
import type { EcsState } from './state.js';
import type { SeedConfig, SeedDisk, SeedInstance, SeedMount } from './types.js';
import { DEFAULT_SECURITY_GROUP, vSwitchOf } from './network.js';

const GiB = 1024 ** 3;

/** The demo inventory `npm run emulator` starts with. */
export const DEMO_SEED_PATH = fileURLToPath(new URL('../seed/demo.json', import.meta.url));

export function loadSeed(seed: SeedConfig | string): SeedConfig {
  if (typeof seed !== 'string') return seed;
  return JSON.parse(fs.readFileSync(path.resolve(seed), 'utf8')) as SeedConfig;
}

export function toMount(m: SeedMount): MountRecord {
  return {
    device: m.device,
    mountPoint: m.mountPoint,
    fsType: m.fsType,
    options: m.options ?? 'rw,relatime',
    diskId: m.diskId ?? null,
    dynamic: false,
  };
}

export function addDisk(
  state: EcsState,
  spec: SeedDisk,
  attach: { instanceId: string; zoneId: string; index: number } | null,
  now: number,
): DiskRecord {
  const type = spec.type ?? (attach && attach.index === 0 ? 'system' : 'data');
  const zoneId = spec.zoneId ?? attach?.zoneId ?? state.settings.zones[0] ?? `${state.settings.regionId}-a`;
  const device = attach
    ? (spec.device ?? `/dev/xvd${String.fromCharCode('a'.charCodeAt(0) + attach.index)}`)
    : null;
  const d: DiskRecord = {
    diskId: spec.diskId ?? newId('d-'),
    diskName: spec.diskName ?? '',
    description: '',
    zoneId,
    category: spec.category,
    performanceLevel: ESSD_FAMILY.has(spec.category) ? (spec.performanceLevel ?? 'PL1') : null,
    sizeGiB: spec.sizeGiB ?? (type === 'system' ? 40 : 100),
    type,
    status: attach ? 'In_use' : 'Available',
    instanceId: attach?.instanceId ?? null,
    device,
    pending: null,
    sourceSnapshotId: null,
    everAttached: attach !== null,
    usedBytes: Math.round((spec.usedGiB ?? 0) * GiB),
    tags: spec.tags ?? {},
    creationTime: now,
    attachedTime: attach ? now : null,
    detachedTime: null,
    deleteWithInstance: type === 'system',
    hasTree: true,
  };
  state.trees.ensureDisk(d.diskId);
  if (spec.files) state.trees.writeFiles(d.diskId, spec.files);
  state.putDisk(d);
  return d;
}

export function addInstance(
  state: EcsState,
  spec: SeedInstance,
  now: number,
): { instance: InstanceRecord; disks: DiskRecord[] } {
  const instanceId = spec.instanceId ?? newId('i-');
  const zoneId = spec.zoneId ?? state.settings.zones[0] ?? `${state.settings.regionId}-a`;
  const osType = spec.osType ?? 'linux';
  const disks = (spec.disks ?? [{ category: 'cloud_essd', type: 'system' } as SeedDisk]).map((d, index) =>
    addDisk(state, d, { instanceId, zoneId, index }, now),
  );
  const defaultMounts: SeedMount[] =
    osType === 'windows'
      ? disks.map((d, i) => ({
          device: `\\\\?\\Volume{${d.diskId}}`,
          mountPoint: `${String.fromCharCode(67 + i)}:\\`,
          fsType: 'ntfs',
          diskId: d.diskId,
        }))
      : [{ device: '/dev/vda1', mountPoint: '/', fsType: 'ext4', diskId: disks[0]?.diskId ?? '' }];
  const inst: InstanceRecord = {
    instanceId,
    instanceName: spec.instanceName ?? instanceId,
    osType,
    osName:
      spec.osName ??
      (osType === 'windows'
        ? 'Windows Server 2022 Datacenter 64bit'
        : 'Alibaba Cloud Linux 3.2104 LTS 64 bit'),
    zoneId,
    instanceType: spec.instanceType ?? 'ecs.g7.large',
    status: spec.status ?? 'Running',
    pending: null,
    everStarted: spec.everStarted ?? true,
    lockReason: spec.lockReason ?? null,
    agentInstalled: spec.agent ?? true,
    agentInstallPending: false,
    agentResponsive: true,
    tags: spec.tags ?? {},
    mounts: (spec.mounts ?? defaultMounts).map(toMount),
    creationTime: now,
    startTime: now,
    invocationCount: 0,
    lastInvokedTime: null,
    vSwitchId: spec.vSwitchId ?? vSwitchOf(zoneId),
    securityGroupIds: spec.securityGroupIds ?? [DEFAULT_SECURITY_GROUP],
  };
  state.putInstance(inst);
  state.trees.ensureTmp(instanceId);
  for (const f of spec.tmp ?? []) state.trees.setTmpFile(instanceId, f);
  return { instance: inst, disks };
}

export function applySeed(state: EcsState, seed: SeedConfig, now: number): void {
  if (seed.zones && seed.zones.length > 0) {
    state.settings.zones = seed.zones;
    state.saveSettings();
  }
  state.db.batch(() => {
    for (const inst of seed.instances ?? []) addInstance(state, inst, now);
    for (const d of seed.disks ?? []) addDisk(state, d, null, now);
  });
}
