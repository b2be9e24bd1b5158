import type { BackupPoint, Job } from '../../domain/model.js';
import type { PointVerification, VerificationStatus } from '../../domain/verification.js';
import type { Deps } from '../deps.js';
import { raiseBackupEvent } from '../notify/backup-events.js';
import { verifyParams } from './state.js';

const MAX_ATTEMPTS = 8;

/**
 * Writes the verdict of `job` on its backup point (a conditional write, retried on a lost race) and
 * raises `backup.verification-failed` when it failed. Run again after a crash it finds its own
 * verdict and raises the same event (its id names the job), which subscribers see once.
 */
export async function recordVerification(
  deps: Deps,
  job: Job,
  verdict: { status: VerificationStatus; reason: string | null },
): Promise<BackupPoint | undefined> {
  const pointId = verifyParams(job).pointId;
  let point: BackupPoint | undefined;
  for (let i = 0; i < MAX_ATTEMPTS; i += 1) {
    point = await deps.store.points.get(pointId);
    if (!point || point.verification?.jobId === job.id) break;
    const now = deps.clock.now();
    const verification: PointVerification = {
      status: verdict.status,
      at: now,
      reason: verdict.reason,
      durationSeconds: Math.max(0, Math.round((now - (job.startedAt ?? job.createdAt)) / 1000)),
      jobId: job.id,
    };
    const written = await deps.store.points.update({ ...point, verification }, point.version);
    if (written.ok) {
      point = written.value;
      break;
    }
    if (i === MAX_ATTEMPTS - 1)
      throw new Error(`backup ${pointId} kept changing while its verification was recorded`);
  }
  if (point?.verification?.jobId === job.id && point.verification.status === 'failed') {
    await raiseBackupEvent(deps, 'backup.verification-failed', point, job.id, {
      jobId: job.id,
      reason: point.verification.reason,
    });
  }
  return point;
}
