import type { AdminDeps } from './admin.js';
import type { EmulatorAdmin, EmulatorStats } from './types.js';

/** What the emulator saw: its call records, counts, and the guest's freezes and mounts. */
export function observeAdmin(
  deps: AdminDeps,
): Pick<EmulatorAdmin, 'guestMode' | 'stats' | 'calls' | 'clearCalls' | 'freezeLog' | 'mountLog' | 'frozen'> {
  const { state } = deps;
  return {
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
  };
}
