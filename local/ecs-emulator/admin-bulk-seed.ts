import type { AdminDeps } from './admin.js';
import { ESSD_FAMILY } from './disk-categories.js';
import { newId } from './ecs-format.js';
import type { DiskRecord, SnapshotGroupRecord, SnapshotRecord } from './records.js';
import type { EmulatorAdmin } from './types.js';

/** A fleet made at once for benchmarks: instances, disks, snapshots and groups, no files. */
export function bulkSeedAdmin(deps: AdminDeps): Pick<EmulatorAdmin, 'bulkSeed'> {
  const { state } = deps;
  return {
    async bulkSeed(spec) {
      const t = Date.now();
      const zoneId = spec.zoneId ?? state.settings.zones[0] ?? `${state.settings.regionId}-a`;
      const category = spec.category ?? 'cloud_essd';
      const perInstance = Math.max(1, spec.disksPerInstance ?? 2);
      const out = {
        instanceIds: [] as string[],
        diskIds: [] as string[],
        snapshotIds: [] as string[],
        snapshotGroupIds: [] as string[],
      };
      state.db.batch(() => {
        const disksByInstance: DiskRecord[][] = [];
        for (let i = 0; i < spec.instances; i++) {
          const instanceId = newId('i-');
          state.putInstance({
            instanceId,
            instanceName: `bulk-${i}`,
            osType: 'linux',
            osName: 'Alibaba Cloud Linux 3.2104 LTS 64 bit',
            zoneId,
            instanceType: 'ecs.g7.large',
            status: 'Running',
            pending: null,
            everStarted: true,
            lockReason: null,
            agentInstalled: true,
            agentInstallPending: false,
            agentResponsive: true,
            tags: { ...(spec.tags ?? {}) },
            mounts: [],
            creationTime: t,
            startTime: t,
            invocationCount: 0,
            lastInvokedTime: null,
          });
          out.instanceIds.push(instanceId);
          const disks: DiskRecord[] = [];
          for (let k = 0; k < perInstance; k++) {
            const d: DiskRecord = {
              diskId: newId('d-'),
              diskName: '',
              description: '',
              zoneId,
              category,
              performanceLevel: ESSD_FAMILY.has(category) ? 'PL1' : null,
              sizeGiB: k === 0 ? 40 : 100,
              type: k === 0 ? 'system' : 'data',
              status: 'In_use',
              instanceId,
              device: `/dev/xvd${String.fromCharCode(97 + k)}`,
              pending: null,
              sourceSnapshotId: null,
              everAttached: true,
              usedBytes: 0,
              tags: {},
              creationTime: t,
              attachedTime: t,
              detachedTime: null,
              deleteWithInstance: k === 0,
              hasTree: false,
            };
            state.putDisk(d);
            disks.push(d);
            out.diskIds.push(d.diskId);
          }
          disksByInstance.push(disks);
        }
        // Spread snapshots round-robin over instances; one group per instance per round when ESSD.
        let made = 0;
        let round = 0;
        while (made < spec.snapshots && disksByInstance.length > 0) {
          for (const disks of disksByInstance) {
            if (made >= spec.snapshots) break;
            const take = disks.slice(0, Math.min(disks.length, spec.snapshots - made));
            const grouped = ESSD_FAMILY.has(category);
            const groupId = grouped ? newId('ssg-') : null;
            const createdAt = t - (spec.snapshots - made) * 1000;
            const snaps: SnapshotRecord[] = take.map((d) => ({
              snapshotId: newId('s-'),
              snapshotName: `bulk-${round}`,
              description: '',
              sourceDiskId: d.diskId,
              sourceDiskType: d.type === 'system' ? 'System' : 'Data',
              sourceDiskSizeGiB: d.sizeGiB,
              sourceDiskCategory: d.category,
              instanceId: d.instanceId,
              snapshotGroupId: groupId,
              createdAt,
              durationMs: 0,
              completedAt: null,
              failAtPercent: null,
              retentionDays: null,
              dataBytes: 0,
              tags: { ...(spec.tags ?? {}) },
              hasTree: false,
            }));
            for (const s of snaps) {
              state.putSnapshot(s);
              out.snapshotIds.push(s.snapshotId);
            }
            if (groupId) {
              const g: SnapshotGroupRecord = {
                snapshotGroupId: groupId,
                name: `bulk-${round}`,
                description: '',
                instanceId: take[0]?.instanceId ?? null,
                snapshotIds: snaps.map((s) => s.snapshotId),
                createdAt,
                tags: { ...(spec.tags ?? {}) },
                resourceGroupId: '',
              };
              state.putGroup(g);
              out.snapshotGroupIds.push(groupId);
            }
            made += snaps.length;
          }
          round += 1;
        }
      });
      return out;
    },
  };
}
