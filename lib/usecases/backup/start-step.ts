import type { Job } from '../../domain/model.js';
import { decideOverlap } from '../../domain/schedule.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { begin, finish, next, pollSeconds, waitFor } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { prepare } from './prepare.js';
import { backupParams, type BackupJobState } from './state.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A job of a plan meets its plan again when it starts: a plan deleted while the job was queued
 * cancels it (nothing of the plan should run any more), a suspended plan skips a scheduled
 * occurrence (HBR: a suspended plan performs no backup). The API refuses both up front; this is the
 * backstop for the race.
 */
async function planCheck(ctx: StepContext, job: Job): Promise<StepResult | null> {
  if (job.planId === null) return null;
  const plan = await ctx.deps.store.plans.get(job.planId);
  if (!plan) return finish(ctx, job, 'CANCELED', 'plan deleted before this job started');
  if (plan.state !== 'ACTIVE' && backupParams(job).trigger === 'schedule') {
    return finish(ctx, job, 'SKIPPED', 'plan suspended before this occurrence ran');
  }
  return null;
}

/**
 * Start: everything that only reads (the plan, the disks attached now, the consistency decision)
 * happens before the occurrence's second, while the message is held; at the second one conditional
 * write makes the job RUNNING with all of it, and the snapshot request follows at once. The scheduler
 * delivers scheduled messages SCHEDULE_LEAD_SECONDS early for this, so a minute with thousands of
 * occurrences does not queue their preparation behind their start.
 */
export async function startStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const { deps } = ctx;
  const early = job.scheduledAt === null ? 0 : job.scheduledAt - deps.clock.now();
  const maxHoldMs = (deps.settings.SCHEDULE_LEAD_SECONDS + 2) * 1000;
  if (early > maxHoldMs) return waitFor(ctx, job, Math.floor((early - maxHoldMs) / 1000) + 1);
  const planEnded = await planCheck(ctx, job);
  if (planEnded) return planEnded;
  const prepared = await prepare(ctx, job);
  if ('refused' in prepared) return windDown(ctx, job, 'FAILED', prepared.refused);
  if (job.scheduledAt !== null) {
    const remaining = job.scheduledAt - deps.clock.now();
    if (remaining > 0) await sleep(remaining);
  }
  const now = deps.clock.now();
  const running = await deps.store.jobs.list(
    { type: 'backup', instanceId: job.instanceId, status: ['RUNNING', 'CANCELING'] },
    { limit: 5 },
  );
  const other = running.items.find((j) => j.id !== job.id);
  const windowMs = deps.settings.START_WINDOW_SECONDS * 1000;
  const decision = decideOverlap(job.scheduledAt ?? job.createdAt, now, other !== undefined, windowMs);
  if (decision.action === 'skip') return finish(ctx, job, 'SKIPPED', decision.reason);
  if (decision.action === 'wait') {
    const reason = `waiting for the previous backup of ${job.instanceId} (${other?.id ?? 'unknown'}) to finish`;
    return waitFor(ctx, job, Math.max(5, pollSeconds(ctx)), { reason });
  }
  const late =
    decision.action === 'run-late'
      ? `started ${Math.round(decision.lateByMs / 1000)} s after its scheduled time`
      : null;
  const notes = [...(late ? [late] : []), ...(prepared.state.notes ?? [])];
  return begin<BackupJobState>(ctx, job, 'snapshot', { ...prepared.state, notes }, 8);
}

/** A job persisted at a preparation step (an older record): prepare again and go on to the snapshot. */
export async function prepareStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const prepared = await prepare(ctx, job);
  if ('refused' in prepared) return windDown(ctx, job, 'FAILED', prepared.refused);
  return next<BackupJobState>(ctx, job, 'snapshot', prepared.state, 8);
}
