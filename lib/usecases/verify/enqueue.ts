import { newJob } from '../../domain/job.js';
import type { BackupPoint, Job } from '../../domain/model.js';
import { countBackup, verificationDue } from '../../domain/verification.js';
import type { Deps } from '../deps.js';
import { enqueueJob } from '../enqueue-job.js';
import { verifyJobId, type VerifyParams } from './state.js';

const MAX_ATTEMPTS = 8;

/**
 * Counts a complete backup of plan `planId` toward its plan's `verify.every` and, when it is the Nth, creates its
 * verify job. Called by the backup's record step before the backup ends: run again after a crash, the
 * count does not move (the plan remembers the last point it counted) and the job id is the point's,
 * so each due backup gets exactly one verification.
 */
export async function verifyIfDue(
  deps: Pick<Deps, 'store' | 'jobQueue' | 'clock'>,
  planId: string | null,
  point: BackupPoint,
): Promise<Job | null> {
  if (!planId) return null;
  for (let i = 0; i < MAX_ATTEMPTS; i += 1) {
    const plan = await deps.store.plans.get(planId);
    if (!plan?.verify) return null;
    const { counter, changed } = countBackup(plan.verifyCounter, point.id);
    if (changed) {
      const written = await deps.store.plans.update({ ...plan, verifyCounter: counter }, plan.version);
      if (!written.ok) continue;
    }
    if (!verificationDue(counter.count, plan.verify.every)) return null;
    const params: VerifyParams = {
      pointId: point.id,
      helperInstanceId: plan.verify.helperInstanceId ?? null,
      script: plan.verify.script ?? true,
    };
    const job = newJob(
      {
        id: verifyJobId(point.id),
        type: 'verify',
        instanceId: point.instanceId,
        planId: point.planId,
        params: { ...params },
      },
      deps.clock.now(),
    );
    return (await enqueueJob(deps, job)).job;
  }
  throw new Error(`plan ${planId} kept changing while backup ${point.id} was counted for verification`);
}
