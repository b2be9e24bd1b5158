import { transition } from '../../domain/job.js';
import type { Job } from '../../domain/model.js';
import type { EcsError } from '../../ports/ecs.js';
import { save, type StepContext, type StepResult } from '../backup/backup-steps.js';
import { releasePoint } from './point-use.js';
import { recoveryState, type RecoveryState } from './state.js';

export type { StepContext, StepResult };

const MAX_NOTES = 20;
const MAX_ERRORS = 20;

export function pollSeconds(ctx: StepContext): number {
  return ctx.deps.settings.POLL_INTERVAL_SECONDS;
}

export function withState(job: Job, patch: Partial<RecoveryState>): Record<string, unknown> {
  return { ...job.state, ...patch };
}

export function noted(job: Job, text: string): string[] {
  const notes = [...(recoveryState(job).notes ?? [])];
  if (!notes.includes(text)) notes.push(text);
  return notes.slice(-MAX_NOTES);
}

/** Persist a move to the next step (conditional on the version read); retries and the step clock restart. */
export async function goTo(
  ctx: StepContext,
  job: Job,
  step: string,
  patch: Partial<RecoveryState> = {},
  progress?: number,
): Promise<Job> {
  const now = ctx.deps.clock.now();
  ctx.entered.add(step);
  return save(ctx, job, {
    ...job,
    step,
    progress: Math.max(job.progress, progress ?? job.progress),
    state: withState(job, { ...patch, retries: 0, stepSince: now }),
    updatedAt: now,
  });
}

/** Persist a fact inside the current step (an intent before an ECS write that is not idempotent). */
export async function record(ctx: StepContext, job: Job, patch: Partial<RecoveryState>): Promise<Job> {
  return save(ctx, job, { ...job, state: withState(job, patch), updatedAt: ctx.deps.clock.now() });
}

export async function next(
  ctx: StepContext,
  job: Job,
  step: string,
  patch: Partial<RecoveryState> = {},
  progress?: number,
): Promise<StepResult> {
  return { next: 'continue', job: await goTo(ctx, job, step, patch, progress) };
}

/** Come back after `seconds` (polling a disk or an instance); the record is touched so a stall is visible. */
export async function waitHere(
  ctx: StepContext,
  job: Job,
  seconds: number,
  patch: Partial<RecoveryState> = {},
): Promise<StepResult> {
  const saved = await save(ctx, job, {
    ...job,
    state: withState(job, patch),
    updatedAt: ctx.deps.clock.now(),
  });
  return { next: 'wait', job: saved, delaySeconds: Math.max(1, Math.round(seconds)) };
}

/** How long one step may wait for ECS (a disk to settle, a busy resource) before the job gives up. */
export function stepTimedOut(ctx: StepContext, job: Job): boolean {
  const since = recoveryState(job).stepSince ?? job.startedAt ?? job.createdAt;
  return ctx.deps.clock.now() - since > ctx.deps.settings.START_WINDOW_SECONDS * 1000;
}

/** Throttling, 5xx or a busy resource: delay with jittered exponential backoff; never a failure for that alone. */
export async function backoff(ctx: StepContext, job: Job, err: EcsError): Promise<StepResult> {
  const now = ctx.deps.clock.now();
  const retries = (recoveryState(job).retries ?? 0) + 1;
  const base = Math.max(1, pollSeconds(ctx));
  const delay = Math.min(60, base * 2 ** Math.min(retries - 1, 6)) * (0.5 + Math.random() * 0.5);
  ctx.deps.log.warn('job delayed by ECS', { jobId: job.id, step: job.step, code: err.code, retries });
  const saved = await save(ctx, job, {
    ...job,
    attempts: job.attempts + 1,
    errors: [...job.errors, { code: err.code, message: err.message, at: now }].slice(-MAX_ERRORS),
    state: withState(job, { retries }),
    updatedAt: now,
  });
  return { next: 'wait', job: saved, delaySeconds: Math.max(1, Math.round(delay)) };
}

/**
 * The last write of a job: the point is released first, so a crash between the two leaves a job
 * that runs this step again rather than a finished job holding the point forever.
 */
export async function end(
  ctx: StepContext,
  job: Job,
  status: 'COMPLETE' | 'FAILED' | 'CANCELED',
  reason: string | null,
  options: { release: string | null; patch?: Partial<RecoveryState>; progress?: number },
): Promise<StepResult> {
  const pointId = recoveryState(job).pointId;
  if (options.release !== null && pointId) await releasePoint(ctx.deps, pointId, options.release);
  const done = await save(
    ctx,
    job,
    transition(job, status, ctx.deps.clock.now(), {
      reason,
      state: withState(job, options.patch ?? {}),
      ...(options.progress === undefined ? {} : { progress: options.progress }),
    }),
  );
  return { next: 'stop', job: done };
}

/**
 * From here the job only undoes what it did (a created disk, a stopped instance) and ends with
 * `status`. A job that has not started yet has nothing to undo.
 */
export async function windDown(
  ctx: StepContext,
  job: Job,
  status: 'FAILED' | 'CANCELED',
  reason: string,
): Promise<StepResult> {
  if (job.status === 'QUEUED' || job.status === 'CREATED') {
    const done = await save(ctx, job, transition(job, status, ctx.deps.clock.now(), { reason }));
    return { next: 'stop', job: done };
  }
  const now = ctx.deps.clock.now();
  const moved: Job =
    status === 'CANCELED' && job.status === 'RUNNING'
      ? transition(job, 'CANCELING', now, { cancelRequested: true })
      : job;
  const ending = recoveryState(job).ending ?? { status, reason };
  ctx.entered.add('cleanup');
  const saved = await save(ctx, job, {
    ...moved,
    step: 'cleanup',
    state: withState(job, { ending, retries: 0, stepSince: now }),
    updatedAt: now,
  });
  return { next: 'continue', job: saved };
}
