import { transition } from '../../domain/job.js';
import type { Job, Plan } from '../../domain/model.js';
import type { Deps } from '../deps.js';
import { scheduleAhead } from '../scheduler-tick.js';

/**
 * A plan's jobs that have not started yet (scheduled occurrences handed to the queue ahead of time,
 * Run Now requests still waiting) are CANCELED when the plan stops wanting them: it was deleted, its
 * schedule moved, or (Run Now only) it was suspended (HBR: a suspended plan performs no backup). Jobs
 * already running finish. The write is conditional on the version read, so a job the worker picks up at the same
 * moment is left to run rather than overwritten; the worker's start step checks the plan again.
 */
export async function cancelUnstartedJobs(
  deps: Pick<Deps, 'store' | 'clock'>,
  planId: string,
  reason: string,
  keep: (job: Job) => boolean = () => false,
): Promise<string[]> {
  const canceled: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.jobs.list(
      { planId, status: ['CREATED', 'QUEUED'] },
      { limit: 500, cursor, order: 'asc' },
    );
    for (const job of page.items) {
      if (job.step !== 'start' || keep(job)) continue;
      const written = await deps.store.jobs.update(
        transition(job, 'CANCELED', deps.clock.now(), { cancelRequested: true, reason }),
        job.version,
      );
      if (written.ok) canceled.push(job.id);
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return canceled;
}

/**
 * The other half of a race with suspend or delete: the plan was read ACTIVE, then suspended or
 * deleted (whose cancel scan ran before this job existed), then the job was written. Read the plan
 * again after the write, so in every order either the scan or this check cancels the job.
 */
export async function cancelIfPlanStopped(deps: Pick<Deps, 'store' | 'clock'>, job: Job): Promise<Job> {
  if (job.planId === null) return job;
  const plan = await deps.store.plans.get(job.planId);
  if (plan?.state === 'ACTIVE') return job;
  const reason = plan === undefined ? 'plan deleted' : 'plan suspended';
  await cancelUnstartedJobs(deps, job.planId, reason, (other) => other.id !== job.id);
  return (await deps.store.jobs.get(job.id)) ?? job;
}

/**
 * After a plan is created, changed or resumed: its occurrences inside the scheduler's look-ahead go to
 * the queue now instead of at the next tick (design §2, "accurate to the second"). The plan is
 * already stored, so a failure here is not the request's: the next tick schedules the same jobs.
 */
export async function scheduleNow(deps: Deps, plan: Plan): Promise<Plan> {
  try {
    const handed = await scheduleAhead(deps, plan, deps.clock.now());
    if (handed === null) return plan;
    return (await deps.store.plans.get(plan.id)) ?? plan;
  } catch (err) {
    deps.log.warn('scheduling a new or changed plan failed; the next tick schedules it', {
      planId: plan.id,
      error: err instanceof Error ? err.message : String(err),
    });
    return plan;
  }
}
