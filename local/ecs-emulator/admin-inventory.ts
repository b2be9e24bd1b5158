import type { AdminDeps } from './admin.js';
import { notFound } from './errors.js';
import { addDisk, addInstance, toMount } from './seed.js';
import type { DiskRecord } from './records.js';
import type { EcsState } from './state.js';
import type { EmulatorAdmin } from './types.js';

const GiB = 1024 ** 3;

/** The disk, settled to now, or the error ECS gives for an unknown one. */
export function adminDisk(state: EcsState, diskId: string): DiskRecord {
  const d = state.disk(diskId, Date.now());
  if (!d) throw notFound('InvalidDiskId.NotFound', `disk ${diskId}`);
  return d;
}

/** Instances and disks set up or changed directly, as a test's starting point. */
export function inventoryAdmin(
  deps: AdminDeps,
): Pick<
  EmulatorAdmin,
  'addInstance' | 'updateInstance' | 'addDisk' | 'updateDisk' | 'setTmpFile' | 'removeTmpFile'
> {
  const { state } = deps;
  const now = (): number => Date.now();
  return {
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
      const d = adminDisk(state, diskId);
      if (category !== undefined) d.category = category;
      if (usedGiB !== undefined) d.usedBytes = Math.round(usedGiB * GiB);
      if (tags !== undefined) d.tags = { ...tags };
      state.putDisk(d);
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
  };
}
