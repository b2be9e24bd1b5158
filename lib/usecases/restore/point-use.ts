import type { BackupPoint } from '../../domain/model.js';
import type { Deps } from '../deps.js';

const MAX_ATTEMPTS = 8;

export type ClaimResult = { ok: true; point: BackupPoint } | { ok: false; reason: string };

/**
 * Adds the job to the point's `inUseBy` with a conditional write. Deleting a point marks it DELETING
 * with a conditional write after checking `inUseBy` is empty, so of a claim and a delete racing on the
 * same version exactly one wins, and the loser sees the winner's mark on its re-read.
 */
export async function claimPoint(
  deps: Pick<Deps, 'store'>,
  pointId: string,
  jobId: string,
  options: { fromCopy?: boolean } = {},
): Promise<ClaimResult> {
  for (let i = 0; i < MAX_ATTEMPTS; i += 1) {
    const point = await deps.store.points.get(pointId);
    if (!point) return { ok: false, reason: `backup ${pointId} no longer exists` };
    if (point.inUseBy.includes(jobId)) return { ok: true, point };
    // A job that reads a copy only needs the copy: the source's own snapshots may be gone.
    if (point.status !== 'AVAILABLE' && !(options.fromCopy === true && point.status === 'COPIES_ONLY')) {
      return { ok: false, reason: `backup ${pointId} is ${point.status} and can no longer be used` };
    }
    const written = await deps.store.points.update(
      { ...point, inUseBy: [...point.inUseBy, jobId] },
      point.version,
    );
    if (written.ok) return { ok: true, point: written.value };
  }
  throw new Error(`backup ${pointId} kept changing while job ${jobId} claimed it`);
}

/** Removes the job from `inUseBy`; releasing twice, or a point gone, is fine. */
export async function releasePoint(deps: Pick<Deps, 'store'>, pointId: string, jobId: string): Promise<void> {
  for (let i = 0; i < MAX_ATTEMPTS; i += 1) {
    const point = await deps.store.points.get(pointId);
    if (!point || !point.inUseBy.includes(jobId)) return;
    const written = await deps.store.points.update(
      { ...point, inUseBy: point.inUseBy.filter((id) => id !== jobId) },
      point.version,
    );
    if (written.ok) return;
  }
  throw new Error(`backup ${pointId} kept changing while job ${jobId} released it`);
}
