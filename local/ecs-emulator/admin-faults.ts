import type { AdminDeps } from './admin.js';
import { notFound } from './errors.js';
import { corruptSnapshot } from './fs-damage.js';
import type { EmulatorAdmin } from './types.js';

/** Faults to inject: failing, slowed or held calls, failing snapshots and copies, damaged data, a silent agent. */
export function faultAdmin(
  deps: AdminDeps,
): Pick<
  EmulatorAdmin,
  | 'failNext'
  | 'delay'
  | 'throttle'
  | 'setRateLimit'
  | 'hold'
  | 'held'
  | 'release'
  | 'clearFaults'
  | 'failSnapshot'
  | 'failCopy'
  | 'corruptSnapshot'
  | 'setAgent'
> {
  const { state, faults } = deps;
  const now = (): number => Date.now();
  return {
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
    async failCopy({ snapshotId, atPercent }) {
      faults.snapshotFailures.set(`copy:${snapshotId ?? '*'}`, Math.max(0, Math.min(99, atPercent ?? 50)));
    },
    async corruptSnapshot(args) {
      return corruptSnapshot(state, args);
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
  };
}
