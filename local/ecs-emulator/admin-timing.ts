import { imagesOf } from './actions-images.js';
import type { AdminDeps } from './admin.js';
import { EcsApiError } from './errors.js';
import type { EmulatorAdmin } from './types.js';

/** How long snapshots and transitions take, and moving them to their end. */
export function timingAdmin(
  deps: AdminDeps,
): Pick<
  EmulatorAdmin,
  | 'setSnapshotSpeed'
  | 'completeSnapshots'
  | 'advanceSnapshots'
  | 'setGroupDiskLimit'
  | 'setAsyncOperationMs'
  | 'completeOperations'
> {
  const { state } = deps;
  const now = (): number => Date.now();
  return {
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
  };
}
