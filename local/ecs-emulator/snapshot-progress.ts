import type { SnapshotRecord, SnapshotView } from './records.js';
import type { Settings } from './state.js';

/**
 * A snapshot's status and progress at `now`: a function of its creation time and duration (or a
 * failure set to strike at a percentage), so nothing has to tick while it is being created.
 */
export function snapshotView(s: SnapshotRecord, now: number): SnapshotView {
  if (s.completedAt !== null && now >= s.completedAt)
    return { status: 'accomplished', progress: 100, remainSeconds: 0 };
  const elapsed = now - s.createdAt;
  const progress =
    s.durationMs <= 0 ? 100 : Math.max(0, Math.min(100, Math.floor((elapsed * 100) / s.durationMs)));
  if (s.failAtPercent !== null && progress >= s.failAtPercent) {
    return { status: 'failed', progress: s.failAtPercent, remainSeconds: 0 };
  }
  if (progress >= 100) return { status: 'accomplished', progress: 100, remainSeconds: 0 };
  return {
    status: 'progressing',
    progress,
    remainSeconds: Math.max(1, Math.ceil((s.durationMs - elapsed) / 1000)),
  };
}

/** How long a snapshot of `dataBytes` takes with the speed, base, spread and time scale set. */
export function snapshotDurationMs(settings: Settings, dataBytes: number): number {
  const { snapshotSpeedBytesPerSec: speed, snapshotBaseMs: base } = settings;
  const spread = settings.snapshotSpreadMs ?? 0;
  const scale = settings.timeScale ?? 1;
  const transfer = !Number.isFinite(speed) || speed <= 0 ? 0 : Math.ceil((dataBytes * 1000) / speed);
  const simulated = Math.max(0, base) + transfer + (spread > 0 ? Math.random() * spread : 0);
  return Math.ceil(simulated / scale);
}
