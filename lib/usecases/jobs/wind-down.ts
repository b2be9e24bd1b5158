import { transition } from '../../domain/job.js';
import type { Job } from '../../domain/model.js';
import {
  CLEANUP_STEP,
  engineState,
  type EngineState,
  type JobKind,
  type StepContext,
  type StepResult,
} from './job-kind.js';
import { finish, noted, pollSeconds, record, save, stepTimedOut, waitFor, withState } from './job-writes.js';

function notStarted(job: Job): boolean {
  return job.status === 'QUEUED' || job.status === 'CREATED';
}

/**
 * From here the job only releases what it holds and ends with `status`. A job that has not started
 * holds nothing and ends at once. The ending is recorded first, so a crash during the clean-up
 * resumes the clean-up, never the work.
 */
export async function windDown(
  ctx: StepContext,
  job: Job,
  status: 'FAILED' | 'CANCELED',
  reason: string,
): Promise<StepResult> {
  if (notStarted(job)) return finish(ctx, job, status, reason);
  const now = ctx.deps.clock.now();
  const moved: Job =
    status === 'CANCELED' && job.status === 'RUNNING'
      ? transition(job, 'CANCELING', now, { cancelRequested: true })
      : job;
  const ending = engineState(job).ending ?? { status, reason };
  ctx.entered.add(CLEANUP_STEP);
  const saved = await save(ctx, job, {
    ...moved,
    step: CLEANUP_STEP,
    state: withState<EngineState>(job, { ending, retries: 0, stepSince: now }),
    updatedAt: now,
  });
  return { next: 'continue', job: saved };
}

/** The clean-up step every kind shares: release what the kind holds, in order, then end. */
export async function cleanupStep(ctx: StepContext, kind: JobKind, job: Job): Promise<StepResult> {
  let current = job;
  for (const resource of kind.holds) {
    const st = engineState(current);
    if ((st.released ?? []).includes(resource.name)) continue;
    const out = await resource.release(ctx, current);
    // A release may record what it found (an id a crash kept from the record): go on from there.
    if (ctx.current?.id === current.id && ctx.current.version > current.version) current = ctx.current;
    if (out.state === 'wait') {
      if (stepTimedOut(ctx, current)) {
        return giveUpCleanup(ctx, kind, current, `${resource.name} could not be released in time`);
      }
      return waitFor(ctx, current, pollSeconds(ctx));
    }
    const text = out.note ?? null;
    const cleanupNotes = [...(engineState(current).cleanupNotes ?? [])];
    if (text) cleanupNotes.push(text);
    current = await record<EngineState>(ctx, current, {
      released: [...(engineState(current).released ?? []), resource.name],
      cleanupNotes,
    });
  }
  const st = engineState(current);
  const ending = st.ending ?? { status: 'FAILED' as const, reason: 'clean-up without a recorded cause' };
  return finish(ctx, current, ending.status, [ending.reason, ...(st.cleanupNotes ?? [])].join('; '));
}

/** Clean-up that cannot finish still ends the job, naming what is left so a person can remove it. */
export async function giveUpCleanup(
  ctx: StepContext,
  kind: JobKind,
  job: Job,
  why: string,
): Promise<StepResult> {
  const st = engineState(job);
  const ending = st.ending ?? { status: 'FAILED' as const, reason: 'failed' };
  const left = kind.holds
    .filter((r) => !(st.released ?? []).includes(r.name))
    .map((r) => r.leftover?.(job) ?? null)
    .filter((t): t is string => t !== null);
  const parts = [ending.reason, ...(st.cleanupNotes ?? []), `clean-up failed: ${why}`, ...left];
  return finish(ctx, job, ending.status, parts.join('; '));
}

/** A job whose cancel was asked for and not yet honoured. */
export function cancelPending(job: Job): boolean {
  const st = engineState(job);
  return (job.cancelRequested || job.status === 'CANCELING') && !st.ending && !st.cancelTooLate;
}

/**
 * Honours a cancel at the job's current step, as its kind declares: wind down (the default), wait
 * (a guest script may hold file systems frozen), or note that it came too late and carry on.
 * Returns null when the step should run.
 */
export async function honourCancel(ctx: StepContext, kind: JobKind, job: Job): Promise<StepResult | null> {
  if (notStarted(job)) return finish(ctx, job, 'CANCELED', 'canceled before it started');
  const rule = kind.cancel?.[job.step];
  const decision = rule ? await rule(ctx, job) : { action: 'wind-down' as const };
  if (decision.action === 'wind-down') return windDown(ctx, job, 'CANCELED', 'canceled by request');
  if (decision.action === 'wait') return waitFor(ctx, job, pollSeconds(ctx));
  const saved = await record<EngineState>(ctx, job, {
    cancelTooLate: true,
    notes: noted(job, decision.note),
  });
  return { next: 'continue', job: saved };
}
