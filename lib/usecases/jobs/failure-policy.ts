import type { Job } from '../../domain/model.js';
import {
  EcsAuthError,
  EcsBusyError,
  EcsError,
  EcsInvalidParameterError,
  EcsNotFoundError,
  EcsQuotaError,
  EcsThrottledError,
  EcsUnreachableError,
  EcsUnsupportedError,
} from '../../ports/ecs.js';
import { retryDelaySeconds } from './backoff.js';
import {
  CLEANUP_STEP,
  engineState,
  type EngineState,
  type JobKind,
  type StepContext,
  type StepResult,
} from './job-kind.js';
import { pollSeconds, save, stepTimedOut, withState } from './job-writes.js';
import { giveUpCleanup, windDown } from './wind-down.js';

const MAX_ERRORS = 20;

/** Finer advice for codes whose class alone says too little (ECS API reference, error codes of each action). */
const ADVICE_BY_CODE: Readonly<Record<string, string>> = {
  'QuotaExceed.Snapshot': 'the disk already has 256 manual snapshots: delete old ones or shorten retention',
  'QuotaExceed.DiskCapacity': 'the disk quota of the account is used up',
  InstanceDiskLimitExceeded: 'the instance has no free disk slot: detach a disk first',
  DiskInArrears: 'the account is in arrears: settle it',
  'InvalidSnapshotId.NotBelongToDisk': 'the snapshot does not come from this disk; use clone-disk instead',
  InstanceDiskZoneMismatch: 'the disk and the instance are in different zones',
  InstanceLockedForSecurity: 'the instance is locked for security reasons',
};

const ADVICE_BY_RESOURCE: Readonly<Record<string, string>> = {
  instance: 'the instance no longer exists: stop its protection',
  disk: 'a disk no longer exists: update the plan',
  snapshot: 'the snapshot of this backup no longer exists; choose another backup',
};

/** What a person can do about an ECS refusal, from its class (and code, where the class says too little). */
export function adviceFor(err: EcsError): string | null {
  const byCode = ADVICE_BY_CODE[err.code];
  if (byCode) return byCode;
  if (err instanceof EcsNotFoundError)
    return ADVICE_BY_RESOURCE[err.resource] ?? `the ${err.resource} no longer exists`;
  if (err instanceof EcsAuthError) {
    return 'the function role lacks an ECS permission or the credentials are wrong: check the RAM policy in infra/';
  }
  if (err instanceof EcsQuotaError) return 'an ECS quota is used up: raise it or free some resources';
  if (err instanceof EcsUnsupportedError) return 'ECS does not allow this for the resource';
  if (err instanceof EcsInvalidParameterError) {
    return `ECS refused a parameter: report it with request id ${err.requestId ?? 'unknown'}`;
  }
  return null;
}

/**
 * The one failure policy of job steps, on the typed ECS errors:
 * - throttling, no answer, a server fault: jittered backoff, never a failure for that alone;
 * - a busy resource: jittered backoff while the step is within the start window; after it, the job
 *   fails saying so;
 * - anything else ECS refused: the job winds down (clean-up) and fails with advice.
 * Errors that are not from ECS are not the policy's: they go to the delivery retry and dead letter.
 */
export async function onStepError(
  ctx: StepContext,
  kind: JobKind,
  job: Job,
  err: unknown,
): Promise<StepResult> {
  if (!(err instanceof EcsError)) throw err;
  // Throttling, no answer and server faults say nothing about the job: it is delayed, never failed
  // for that alone (design §5). A resource that stays busy may never free up: bounded by the window.
  if (
    err instanceof EcsThrottledError ||
    err instanceof EcsUnreachableError ||
    (err.retryable && !(err instanceof EcsBusyError))
  ) {
    return backoff(ctx, job, err);
  }
  if (err instanceof EcsBusyError) {
    if (!stepTimedOut(ctx, job)) return backoff(ctx, job, err);
    return fail(
      ctx,
      kind,
      job,
      `ECS kept answering ${err.code} at the ${job.step} step for the whole start window: ${err.message}`,
    );
  }
  const advice = adviceFor(err);
  return fail(
    ctx,
    kind,
    job,
    `ECS refused the ${job.step} step: ${err.code}: ${err.message}${advice ? ` (${advice})` : ''}`,
  );
}

/** A job that cannot succeed: its clean-up runs, then it ends FAILED with the reason and the kind's hint. */
export async function fail(ctx: StepContext, kind: JobKind, job: Job, reason: string): Promise<StepResult> {
  if (job.step === CLEANUP_STEP) return giveUpCleanup(ctx, kind, job, reason);
  return windDown(ctx, job, 'FAILED', kind.failureHint ? `${reason}; ${kind.failureHint}` : reason);
}

async function backoff(ctx: StepContext, job: Job, err: EcsError): Promise<StepResult> {
  const now = ctx.deps.clock.now();
  const retries = (engineState(job).retries ?? 0) + 1;
  const delay = retryDelaySeconds(retries, pollSeconds(ctx));
  ctx.deps.log.warn('job delayed by ECS', { jobId: job.id, step: job.step, code: err.code, retries });
  const saved = await save(ctx, job, {
    ...job,
    attempts: job.attempts + 1,
    errors: [...job.errors, { code: err.code, message: err.message, at: now }].slice(-MAX_ERRORS),
    state: withState<EngineState>(job, { retries }),
    updatedAt: now,
  });
  return { next: 'wait', job: saved, delaySeconds: delay };
}
