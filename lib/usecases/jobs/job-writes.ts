import { transition } from '../../domain/job.js';
import type { Job } from '../../domain/model.js';
import { engineState, type EngineState, type StepContext, type StepResult } from './job-kind.js';

const MAX_NOTES = 20;

/** Another writer changed the job first: this delivery stops, the winner carries on. */
export class LostRace extends Error {
  constructor(jobId: string, reason: string) {
    super(`job ${jobId}: write lost (${reason})`);
    this.name = 'LostRace';
  }
}

/** The conditional write every job change goes through (on the version the step read). */
export async function save(ctx: StepContext, before: Job, after: Job): Promise<Job> {
  const written = await ctx.deps.store.jobs.update(after, before.version);
  if (!written.ok) throw new LostRace(before.id, written.reason);
  ctx.current = written.value;
  await ctx.deps.hooks?.afterJobStep?.(written.value);
  return written.value;
}

export function withState<S extends EngineState>(job: Job, patch: Partial<S>): Record<string, unknown> {
  return { ...job.state, ...patch };
}

/** The job's notes with `text` added once (the list is bounded). */
export function noted(job: Job, text: string | null | undefined): string[] {
  const notes = [...(engineState(job).notes ?? [])];
  if (text && !notes.includes(text)) notes.push(text);
  return notes.slice(-MAX_NOTES);
}

/** Moves to another step in the same status; retries and the step clock restart. */
export async function goTo<S extends EngineState>(
  ctx: StepContext,
  job: Job,
  step: string,
  patch: Partial<S> = {},
  progress?: number,
): Promise<Job> {
  const now = ctx.deps.clock.now();
  ctx.entered.add(step);
  return save(ctx, job, {
    ...job,
    step,
    progress: Math.max(job.progress, progress ?? job.progress),
    state: withState<EngineState>(job, { ...patch, retries: 0, stepSince: now }),
    updatedAt: now,
  });
}

/** `goTo`, then run the next step in this delivery. */
export async function next<S extends EngineState>(
  ctx: StepContext,
  job: Job,
  step: string,
  patch: Partial<S> = {},
  progress?: number,
): Promise<StepResult> {
  return { next: 'continue', job: await goTo(ctx, job, step, patch, progress) };
}

/** Persists a fact inside the current step (an intent before an ECS write that is not idempotent). */
export async function record<S extends EngineState>(
  ctx: StepContext,
  job: Job,
  patch: Partial<S>,
): Promise<Job> {
  return save(ctx, job, { ...job, state: withState(job, patch), updatedAt: ctx.deps.clock.now() });
}

/** Comes back after `seconds`; the record is touched so a stall is visible. */
export async function waitFor(
  ctx: StepContext,
  job: Job,
  seconds: number,
  patch: Partial<Job> = {},
): Promise<StepResult> {
  const saved = await save(ctx, job, { ...job, ...patch, updatedAt: ctx.deps.clock.now() });
  return { next: 'wait', job: saved, delaySeconds: Math.max(1, Math.round(seconds)) };
}

/** The last write of a job. */
export async function finish(
  ctx: StepContext,
  job: Job,
  status: 'FAILED' | 'SKIPPED' | 'CANCELED' | 'COMPLETE' | 'PARTIAL_COMPLETE',
  reason: string | null,
  patch: Partial<Job> = {},
): Promise<StepResult> {
  const done = await save(ctx, job, transition(job, status, ctx.deps.clock.now(), { ...patch, reason }));
  return { next: 'stop', job: done };
}

export function pollSeconds(ctx: StepContext): number {
  return ctx.deps.settings.POLL_INTERVAL_SECONDS;
}

/** How long one step may wait for ECS (a resource to settle, a busy resource) before the job gives up. */
export function stepTimedOut(ctx: StepContext, job: Job): boolean {
  const since = engineState(job).stepSince ?? job.startedAt ?? job.createdAt;
  return ctx.deps.clock.now() - since > ctx.deps.settings.START_WINDOW_SECONDS * 1000;
}

/** The job starts: RUNNING at `step`, with what the start learned, in one conditional write. */
export async function begin<S extends EngineState>(
  ctx: StepContext,
  job: Job,
  step: string,
  patch: Partial<S>,
  progress: number,
): Promise<StepResult> {
  const now = ctx.deps.clock.now();
  ctx.entered.add(step);
  const started = transition(job, 'RUNNING', now, {
    step,
    progress,
    reason: null,
    state: withState<EngineState>(job, { ...patch, stepSince: now }),
  });
  return { next: 'continue', job: await save(ctx, job, started) };
}
