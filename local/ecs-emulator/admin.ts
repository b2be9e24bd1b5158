import fs from 'node:fs';
import { EcsApiError, notFound } from './errors.js';
import { safeJoin } from './files.js';
import type { Faults } from './faults.js';
import type { Assistant } from './assistant.js';
import type { Regions } from './regions.js';
import type { DiskRecord, SnapshotGroupRecord, SnapshotRecord } from './records.js';
import { imagesOf } from './actions-images.js';
import { addDisk, addInstance, toMount } from './seed.js';
import { corruptSnapshot } from './fs-damage.js';
import { ESSD_FAMILY } from './disk-categories.js';
import { newId } from './ecs-format.js';
import type { EcsState } from './state.js';
import type { CallRecord, EmulatorAdmin, EmulatorStats } from './types.js';

const GiB = 1024 ** 3;

export interface AdminDeps {
  state: EcsState;
  faults: Faults;
  assistant: Assistant;
  calls: CallRecord[];
  regions: Regions;
}

/** The control surface tests and benchmarks use; the same methods answer under /__admin/<name>. */
export function createAdmin(deps: AdminDeps): EmulatorAdmin {
  const { state, faults } = deps;
  const now = (): number => Date.now();

  const diskOrThrow = (diskId: string): DiskRecord => {
    const d = state.disk(diskId, now());
    if (!d) throw notFound('InvalidDiskId.NotFound', `disk ${diskId}`);
    return d;
  };
  const treeOf = (args: { diskId?: string; snapshotId?: string }): string => {
    if (args.snapshotId) {
      if (!state.snapshots.get(args.snapshotId))
        throw notFound('InvalidSnapshotId.NotFound', `snapshot ${args.snapshotId}`);
      return state.trees.snapshotDir(args.snapshotId);
    }
    if (args.diskId) {
      diskOrThrow(args.diskId);
      return state.trees.ensureDisk(args.diskId);
    }
    throw new EcsApiError('MissingParameter', 'diskId or snapshotId is required.', 400);
  };

  const others = new Map<string, EmulatorAdmin>();
  const admin: EmulatorAdmin = {
    inRegion(regionId) {
      if (regionId === state.settings.regionId) return admin;
      let scoped = others.get(regionId);
      if (!scoped) {
        scoped = createAdmin({ ...deps, state: deps.regions.require(regionId) });
        others.set(regionId, scoped);
      }
      return scoped;
    },
    async corruptSnapshot(args) {
      return corruptSnapshot(state, args);
    },
    async failCopy({ snapshotId, atPercent }) {
      faults.snapshotFailures.set(`copy:${snapshotId ?? '*'}`, Math.max(0, Math.min(99, atPercent ?? 50)));
    },
    async guestMode() {
      return { ...deps.assistant.sandbox.mode };
    },
    async stats(): Promise<EmulatorStats> {
      const callsByAction: Record<string, number> = {};
      for (const c of deps.calls) callsByAction[c.action] = (callsByAction[c.action] ?? 0) + 1;
      return {
        instances: state.instances.size,
        disks: state.disks.size,
        snapshots: state.snapshots.size,
        snapshotGroups: state.groups.size,
        invocations: state.invocations.size,
        calls: deps.calls.length,
        callsByAction,
        frozen: state.frozen.size,
      };
    },
    async calls(filter = {}) {
      return deps.calls.filter(
        (c) =>
          (!filter.action || c.action === filter.action) &&
          (filter.since === undefined || c.at >= filter.since),
      );
    },
    async clearCalls() {
      deps.calls.length = 0;
    },
    async freezeLog(filter = {}) {
      return state.freezeLog.filter(
        (e) =>
          (!filter.instanceId || e.instanceId === filter.instanceId) &&
          (!filter.mountPoint || e.mountPoint === filter.mountPoint),
      );
    },
    async mountLog(filter = {}) {
      return state.mountLog.filter((e) => !filter.instanceId || e.instanceId === filter.instanceId);
    },
    async frozen(filter = {}) {
      return [...state.frozen.values()].filter(
        (f) => !filter.instanceId || f.instanceId === filter.instanceId,
      );
    },

    async failNext(fault) {
      faults.failNext(fault);
    },
    async delay({ action, ms }) {
      faults.setDelay(action ?? '*', ms);
    },
    async throttle({ action, fraction }) {
      faults.setThrottle(action ?? '*', fraction);
    },
    async setRateLimit({ action, perSecond }) {
      faults.setRateLimit(action, perSecond);
    },
    async failSnapshot({ diskId, snapshotId, atPercent }) {
      const pct = Math.max(0, Math.min(99, atPercent ?? 50));
      if (snapshotId) {
        const s = state.snapshots.get(snapshotId);
        if (!s) throw notFound('InvalidSnapshotId.NotFound', `snapshot ${snapshotId}`);
        s.failAtPercent = pct;
        s.completedAt = null;
        state.putSnapshot(s);
        return;
      }
      faults.snapshotFailures.set(diskId ?? '*', pct);
    },
    async setAgent({ instanceId, installed, responsive }) {
      const inst = state.instance(instanceId, now());
      if (!inst) throw notFound('InvalidInstanceId.NotFound', `instance ${instanceId}`);
      if (installed !== undefined) {
        inst.agentInstalled = installed;
        inst.agentInstallPending = false;
      }
      if (responsive !== undefined) inst.agentResponsive = responsive;
      state.putInstance(inst);
    },
    async hold({ action, count } = {}) {
      faults.hold(action ?? '*', count ?? 1);
    },
    async held({ action } = {}) {
      return faults.held(action);
    },
    async release({ action } = {}) {
      return faults.release(action);
    },
    async clearFaults() {
      faults.clear();
    },

    async setSnapshotSpeed({ bytesPerSec, baseMs, instant, spreadMs, timeScale }) {
      if (instant) {
        state.settings.snapshotSpeedBytesPerSec = 0;
        state.settings.snapshotBaseMs = 0;
        state.settings.snapshotSpreadMs = 0;
      }
      if (spreadMs !== undefined) state.settings.snapshotSpreadMs = Math.max(0, spreadMs);
      if (timeScale !== undefined) {
        if (!(timeScale > 0)) throw new EcsApiError('InvalidParameter', 'timeScale must be above 0.', 400);
        state.settings.timeScale = timeScale;
      }
      if (bytesPerSec !== undefined) state.settings.snapshotSpeedBytesPerSec = bytesPerSec;
      if (baseMs !== undefined) state.settings.snapshotBaseMs = baseMs;
      state.saveSettings();
    },
    async completeSnapshots(args = {}) {
      const t = now();
      const ids = args.snapshotIds ?? [...state.snapshots.byId.keys()];
      let n = 0;
      state.db.batch(() => {
        for (const id of ids) {
          const s = state.snapshots.get(id);
          if (!s || state.snapshotView(s, t).status !== 'progressing') continue;
          s.completedAt = t;
          s.failAtPercent = null;
          state.putSnapshot(s);
          n += 1;
        }
      });
      return n;
    },
    async advanceSnapshots({ ms }) {
      const t = now();
      state.db.batch(() => {
        for (const s of state.snapshots.byId.values()) {
          if (state.snapshotView(s, t).status !== 'progressing') continue;
          s.createdAt -= ms;
          state.putSnapshot(s);
        }
      });
    },
    async setGroupDiskLimit({ limit }) {
      state.settings.groupDiskLimit = limit;
      state.saveSettings();
    },
    async setAsyncOperationMs({ ms }) {
      state.settings.asyncOperationMs = ms;
      state.saveSettings();
    },
    async completeOperations() {
      // Transitions settle lazily on read: moving their end to now settles them on the next read.
      const t = now();
      let n = 0;
      state.db.batch(() => {
        for (const r of state.instances.byId.values()) {
          if (!r.pending || r.pending.until <= t) continue;
          r.pending.until = t;
          if (r.pending.after) r.pending.after.until = t;
          state.putInstance(r);
          n += 1;
        }
        for (const r of state.disks.byId.values()) {
          if (!r.pending || r.pending.until <= t) continue;
          r.pending.until = t;
          state.putDisk(r);
          n += 1;
        }
        for (const r of imagesOf(state).values()) {
          if (r.readyAt <= t) continue;
          r.readyAt = t;
          state.persist('image', r.imageId, r);
          n += 1;
        }
      });
      return n;
    },

    async addInstance(spec) {
      const { instance, disks } = state.db.batch(() => addInstance(state, spec, now()));
      return { instanceId: instance.instanceId, diskIds: disks.map((d) => d.diskId) };
    },
    async updateInstance(args) {
      const inst = state.instance(args.instanceId, now());
      if (!inst) throw notFound('InvalidInstanceId.NotFound', `instance ${args.instanceId}`);
      if (args.status !== undefined) {
        inst.status = args.status;
        inst.pending = null;
        if (args.status === 'Running') inst.everStarted = true;
      }
      if (args.lockReason !== undefined) inst.lockReason = args.lockReason;
      if (args.everStarted !== undefined) inst.everStarted = args.everStarted;
      if (args.tags !== undefined) inst.tags = { ...args.tags };
      if (args.mounts !== undefined) inst.mounts = args.mounts.map(toMount);
      state.putInstance(inst);
    },
    async addDisk(spec) {
      const t = now();
      if (spec.instanceId) {
        const inst = state.instance(spec.instanceId, t);
        if (!inst) throw notFound('InvalidInstanceId.NotFound', `instance ${spec.instanceId}`);
        const used = new Set(state.disksOf(inst.instanceId, t).map((d) => d.device));
        let index = 1;
        while (used.has(`/dev/xvd${String.fromCharCode(97 + index)}`)) index += 1;
        const d = addDisk(
          state,
          { ...spec, type: spec.type ?? 'data' },
          { instanceId: inst.instanceId, zoneId: inst.zoneId, index },
          t,
        );
        return { diskId: d.diskId };
      }
      return { diskId: addDisk(state, spec, null, t).diskId };
    },
    async updateDisk({ diskId, category, usedGiB, tags }) {
      const d = diskOrThrow(diskId);
      if (category !== undefined) d.category = category;
      if (usedGiB !== undefined) d.usedBytes = Math.round(usedGiB * GiB);
      if (tags !== undefined) d.tags = { ...tags };
      state.putDisk(d);
    },

    async writeFile({ diskId, path, content, encoding, owner, mode }) {
      diskOrThrow(diskId);
      state.trees.writeFile(diskId, path, Buffer.from(content, encoding ?? 'utf8'), {
        ...(owner !== undefined ? { owner } : {}),
        ...(mode !== undefined ? { mode } : {}),
      });
    },
    async readFile(args) {
      const file = safeJoin(treeOf(args), args.path);
      if (!fs.existsSync(file)) throw new EcsApiError('FileNotFound', `No file ${args.path}.`, 404);
      return fs.readFileSync(file).toString(args.encoding ?? 'utf8');
    },
    async removeFile({ diskId, path }) {
      diskOrThrow(diskId);
      state.trees.removeFile(diskId, path);
    },
    async listFiles(args) {
      return state.trees.list(treeOf(args));
    },
    async treePath(args) {
      return treeOf(args);
    },

    async setTmpFile(args) {
      if (!state.instances.get(args.instanceId))
        throw notFound('InvalidInstanceId.NotFound', `instance ${args.instanceId}`);
      state.trees.setTmpFile(args.instanceId, args);
    },
    async removeTmpFile({ instanceId, path }) {
      if (!state.instances.get(instanceId))
        throw notFound('InvalidInstanceId.NotFound', `instance ${instanceId}`);
      state.trees.removeTmpFile(instanceId, path);
    },

    async bulkSeed(spec) {
      const t = now();
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
  return admin;
}
