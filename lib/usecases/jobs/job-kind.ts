import type { Job, JobType } from '../../domain/model.js';
import type { EcsReaders } from './ecs-readers.js';
import type { Deps } from '../deps.js';

/** What a step asks the engine to do next. */
export type StepResult =
  | { next: 'continue'; job: Job }
  | { next: 'wait'; job: Job; delaySeconds: number }
  | { next: 'stop'; job: Job };

export interface StepContext {
  /** The dependencies, with `ecs` wrapped by the test hooks when there are any. */
  deps: Deps;
  readers: EcsReaders;
  /** Steps this delivery entered itself; a step found in the record but not entered here is being resumed. */
  entered: Set<string>;
  /** The job being advanced, kept current by the engine (the test hooks name it). */
  current: Job | null;
}

export type Step = (ctx: StepContext, job: Job) => Promise<StepResult>;

/** How a job ends when it winds down: its clean-up runs first. */
export interface Ending {
  status: 'FAILED' | 'CANCELED';
  reason: string;
}

/** State every job kind keeps in `job.state` besides its own, owned by the engine. */
export interface EngineState {
  /** Consecutive delays (throttling, a busy resource) for backoff. */
  retries?: number;
  /** When the current step was entered, to bound waits and backoff. */
  stepSince?: number;
  /** Reasons gathered on the way, in order. */
  notes?: string[];
  /** Set when the job winds down (failure or cancel): its clean-up runs, then it ends so. */
  ending?: Ending;
  /** Resources the clean-up has released, by name. */
  released?: string[];
  /** What the clean-up did, for the final reason. */
  cleanupNotes?: string[];
  /** Cancel came when the work could no longer be undone: the job completes. */
  cancelTooLate?: boolean;
}

export type CancelDecision =
  { action: 'wind-down' } | { action: 'wait' } | { action: 'too-late'; note: string };

export type CancelRule = (ctx: StepContext, job: Job) => CancelDecision | Promise<CancelDecision>;

export type Release =
  { state: 'released'; note?: string | null } | { state: 'wait' } | { state: 'left'; note: string };

/**
 * Something a job may hold in ECS or in the store while it runs (snapshots it created, a disk, an
 * instance it stopped, a claim on a backup). Releasing is idempotent and finds what a crash kept the
 * job from recording (by the job's tags or ClientToken).
 */
export interface Resource {
  name: string;
  release(ctx: StepContext, job: Job): Promise<Release>;
  /** What a person must remove by hand when the release cannot finish. */
  leftover?(job: Job): string | null;
}

/**
 * A job kind is a declaration: its steps, the first one, what cancel does in each step, what it
 * holds. The engine owns delivery, conditional writes, backoff, start windows, cancel, clean-up and
 * dead-lettering.
 */
export interface JobKind {
  type: JobType;
  /** Step of a new job; it makes the job RUNNING. */
  firstStep: string;
  steps: Readonly<Record<string, Step>>;
  /** What a cancel does in a step; a step not listed winds the job down (clean-up, then CANCELED). */
  cancel?: Readonly<Record<string, CancelRule>>;
  /** Released in this order when the job fails or is canceled after it started. */
  holds: readonly Resource[];
  /** Said after the reason of a failure: what a person can do about it. */
  failureHint?: string;
  /** Runs after the job ended; failures are logged, never change the job. */
  afterFinish?(deps: Deps, job: Job): Promise<void>;
}

export type JobKinds = Readonly<Partial<Record<JobType, JobKind>>>;

export const CLEANUP_STEP = 'cleanup';

export function engineState(job: Job): EngineState {
  return job.state as EngineState;
}
