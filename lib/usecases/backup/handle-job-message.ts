import { isTerminal, transition } from '../../domain/job.js';
import type { Job, JobStatus } from '../../domain/model.js';
import { EcsError } from '../../ports/ecs.js';
import type { Deps } from '../../runtime/deps.js';
import { enforceRetention } from '../retention.js';
import { backoff, fail, LostRace, runStep, type StepContext, type StepResult } from './backup-steps.js';
import { ecsReaders } from './ecs-readers.js';
import { decodeJobMessage, encodeJobMessageBody, type JobMessageBody } from './job-message.js';

export type JobMessageOutcome =
  | { kind: 'waiting'; jobId: string; delaySeconds: number }
  | { kind: 'finished'; jobId: string; status: JobStatus }
  | { kind: 'ignored'; jobId: string; why: string }
  | { kind: 'dead-lettered'; jobId: string | null; reason: string };

/** Steps one delivery may run before handing the job to a fresh message (keeps invocations short). */
const MAX_STEPS_PER_DELIVERY = 12;

/** ECS answers that mean "not now" rather than "no": wait and try again (bounded by the start window). */
const BUSY_CODES = new Set([
  'IncorrectDiskStatus.CreatingSnapshot',
  'IncorrectDiskStatus',
  'IncorrectInstanceStatus',
  'IdempotentProcessing',
  'Operation.Conflict',
  'LastTokenProcessing',
]);

const ADVICE: Record<string, string> = {
  'QuotaExceed.Snapshot': 'the disk already has 256 manual snapshots: delete old ones or shorten retention',
  DiskInArrears: 'the disk is in arrears: settle the account',
  'InvalidInstanceId.NotFound': 'the instance no longer exists: stop its protection',
  'InvalidDiskId.NotFound': 'a disk no longer exists: update the plan',
  Forbidden: 'the function role lacks an ECS permission: check the RAM policy in infra/',
  'Forbidden.RAM': 'the function role lacks an ECS permission: check the RAM policy in infra/',
  InvalidAccessKeyId: 'the ECS credentials are wrong',
};

type Runner = (ctx: StepContext, job: Job) => Promise<StepResult>;

/** Other job types (restore, mount, export) register their step runners here. */
const runners = new Map<Job['type'], Runner>([['backup', runStep]]);

export function registerJobRunner(type: Job['type'], runner: Runner): void {
  runners.set(type, runner);
}

/**
 * The worker: advances the job named in one queue message as far as it can without waiting, then
 * sends itself a delayed message to continue (polls). At-least-once delivery is fine: each step is a
 * conditional write on the job version, so a duplicate either finds the step done or loses the race.
 * A message that keeps failing is dead-lettered after MAX_RECEIVE_COUNT deliveries and its job FAILED.
 */
export async function handleJobMessage(
  deps: Deps,
  body: string,
  receiveCount: number,
): Promise<JobMessageOutcome> {
  const message = decodeJobMessage(body);
  if (!message) {
    await deps.deadLetterQueue.send(body);
    deps.log.error('malformed job message dead-lettered', { body: body.slice(0, 200) });
    return { kind: 'dead-lettered', jobId: null, reason: 'malformed message' };
  }
  const deliveries = Math.max(receiveCount, (message.attempt ?? 0) + 1);
  try {
    return await advance(deps, message);
  } catch (err) {
    if (err instanceof LostRace)
      return { kind: 'ignored', jobId: message.jobId, why: 'another delivery advanced the job' };
    if (deliveries < deps.settings.MAX_RECEIVE_COUNT) throw err;
    return deadLetter(deps, message, err, deliveries);
  }
}

function stalled(deps: Deps, job: Job): boolean {
  return deps.clock.now() - job.updatedAt > deps.settings.JOB_STALL_SECONDS * 1000;
}

async function advance(deps: Deps, message: JobMessageBody): Promise<JobMessageOutcome> {
  const job = await deps.store.jobs.get(message.jobId);
  if (!job) {
    await deps.deadLetterQueue.send(encodeJobMessageBody(message));
    deps.log.error('message for an unknown job dead-lettered', { jobId: message.jobId });
    return { kind: 'dead-lettered', jobId: message.jobId, reason: 'unknown job' };
  }
  if (isTerminal(job.status)) return { kind: 'ignored', jobId: job.id, why: `job is ${job.status}` };
  // A message from an older version is a duplicate of a chain that moved on; its successor is in the queue.
  if (message.seq !== undefined && message.seq !== job.version && !stalled(deps, job)) {
    return { kind: 'ignored', jobId: job.id, why: 'stale message' };
  }
  const runner = runners.get(job.type);
  if (!runner) throw new Error(`no worker for ${job.type} jobs`);
  const ctx: StepContext = {
    deps,
    readers: ecsReaders(deps.ecs, deps.clock, deps.settings.POLL_INTERVAL_SECONDS),
    entered: new Set(),
  };
  let current = job;
  for (let i = 0; i < MAX_STEPS_PER_DELIVERY; i += 1) {
    let result: StepResult;
    try {
      result = await runner(ctx, current);
    } catch (err) {
      if (!(err instanceof EcsError)) throw err;
      result = await onEcsError(ctx, current, err);
    }
    if (result.next === 'continue') {
      current = result.job;
      continue;
    }
    if (result.next === 'wait') {
      await sendFollowUp(deps, result.job, result.delaySeconds);
      return { kind: 'waiting', jobId: job.id, delaySeconds: result.delaySeconds };
    }
    await afterFinish(deps, result.job);
    return { kind: 'finished', jobId: job.id, status: result.job.status };
  }
  await sendFollowUp(deps, current, 0);
  return { kind: 'waiting', jobId: job.id, delaySeconds: 0 };
}

async function sendFollowUp(deps: Deps, job: Job, delaySeconds: number): Promise<void> {
  await deps.jobQueue.send(encodeJobMessageBody({ v: 1, jobId: job.id, seq: job.version }), { delaySeconds });
}

async function onEcsError(ctx: StepContext, job: Job, err: EcsError): Promise<StepResult> {
  if (err.retryable) return backoff(ctx, job, err, false);
  if (BUSY_CODES.has(err.code)) return backoff(ctx, job, err, true);
  const advice = ADVICE[err.code];
  return fail(
    ctx,
    job,
    `ECS refused the ${job.step} step: ${err.code}: ${err.message}${advice ? ` (${advice})` : ''}`,
  );
}

/** Retention after each completed backup of the instance: the newest point may let an older one go. */
async function afterFinish(deps: Deps, job: Job): Promise<void> {
  if (job.type !== 'backup' || (job.status !== 'COMPLETE' && job.status !== 'PARTIAL_COMPLETE')) return;
  try {
    await enforceRetention(deps, deps.clock.now(), { instanceId: job.instanceId });
  } catch (err) {
    deps.log.warn('retention after backup failed; the hourly sweep will retry', {
      jobId: job.id,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

async function deadLetter(
  deps: Deps,
  message: JobMessageBody,
  err: unknown,
  deliveries: number,
): Promise<JobMessageOutcome> {
  const why = err instanceof Error ? err.message : String(err);
  await deps.deadLetterQueue.send(encodeJobMessageBody({ v: 1, jobId: message.jobId }));
  const reason = `the worker failed ${deliveries} times on this job and gave up: ${why}`;
  deps.log.error('job message dead-lettered', { jobId: message.jobId, deliveries, error: why });
  for (let i = 0; i < 3; i += 1) {
    const job = await deps.store.jobs.get(message.jobId);
    if (!job || isTerminal(job.status)) break;
    const ctx: StepContext = {
      deps,
      readers: ecsReaders(deps.ecs, deps.clock, deps.settings.POLL_INTERVAL_SECONDS),
      entered: new Set(),
    };
    try {
      await fail(ctx, job, reason);
      break;
    } catch (failErr) {
      if (failErr instanceof LostRace) continue;
      // Clean-up itself is what keeps failing: record the failure without it.
      const written = await deps.store.jobs.update(
        transition(job, 'FAILED', deps.clock.now(), { reason }),
        job.version,
      );
      if (written.ok) break;
    }
  }
  return { kind: 'dead-lettered', jobId: message.jobId, reason };
}

/**
 * A message whose handling failed is sent again on its own, with its delivery count in the body,
 * so one bad message in a batch is retried without the batch (the trigger would redeliver all).
 */
export async function retryJobMessageLater(deps: Deps, body: string, receiveCount: number): Promise<number> {
  const message = decodeJobMessage(body);
  if (!message) {
    await deps.deadLetterQueue.send(body);
    return 0;
  }
  const attempt = Math.max(receiveCount, (message.attempt ?? 0) + 1);
  const delaySeconds = Math.min(60, 2 ** Math.min(attempt - 1, 6));
  await deps.jobQueue.send(encodeJobMessageBody({ v: 1, jobId: message.jobId, attempt }), { delaySeconds });
  return delaySeconds;
}
