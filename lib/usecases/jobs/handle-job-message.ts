import { isTerminal, transition } from '../../domain/job.js';
import type { Job, JobStatus } from '../../domain/model.js';
import type { Deps } from '../deps.js';
import { raiseJobEvent } from '../notify/raise-event.js';
import { retryDelaySeconds } from './backoff.js';
import { jobContext } from './job-context.js';
import { CLEANUP_STEP, type JobKind, type JobKinds, type StepContext, type StepResult } from './job-kind.js';
import { decodeJobMessage, encodeJobMessageBody, type JobMessageBody } from './job-message.js';
import { LostRace } from './job-writes.js';
import { fail, onStepError } from './failure-policy.js';
import { cancelPending, cleanupStep, honourCancel, windDown } from './wind-down.js';

export type JobMessageOutcome =
  | { kind: 'waiting'; jobId: string; delaySeconds: number }
  | { kind: 'finished'; jobId: string; status: JobStatus }
  | { kind: 'ignored'; jobId: string; why: string }
  | { kind: 'dead-lettered'; jobId: string | null; reason: string };

/** Steps one delivery may run before handing the job to a fresh message (keeps invocations short). */
const MAX_STEPS_PER_DELIVERY = 12;

/**
 * The worker: advances the job named in one queue message as far as it can without waiting, then
 * sends itself a delayed message to continue (polls). At-least-once delivery is fine: each step is a
 * conditional write on the job version, so a duplicate either finds the step done or loses the race.
 * A message that keeps failing is dead-lettered after MAX_RECEIVE_COUNT deliveries and its job FAILED.
 * `kinds` are the job kinds this worker runs, passed in by the entry point. `messageId` is the
 * queue's id of the message, the same on every delivery of it: the job's writes record it, so a
 * message delivered again is told from a duplicate even where no delivery count comes with it.
 */
export async function handleJobMessage(
  deps: Deps,
  kinds: JobKinds,
  body: string,
  receiveCount: number,
  messageId?: string,
): Promise<JobMessageOutcome> {
  const message = decodeJobMessage(body);
  if (!message) {
    await deps.deadLetterQueue.send(body);
    deps.log.error('malformed job message dead-lettered', { body: body.slice(0, 200) });
    return { kind: 'dead-lettered', jobId: null, reason: 'malformed message' };
  }
  const deliveries = Math.max(receiveCount, (message.attempt ?? 0) + 1);
  try {
    return await advance(deps, kinds, message, { receiveCount, messageId });
  } catch (err) {
    if (err instanceof LostRace) {
      return { kind: 'ignored', jobId: message.jobId, why: 'another delivery advanced the job' };
    }
    if (deliveries < deps.settings.MAX_RECEIVE_COUNT) throw err;
    return deadLetter(deps, kinds, message, err, deliveries);
  }
}

/** How this delivery came: its count where the queue gives one, the message's id where it is known. */
interface Delivery {
  receiveCount: number;
  messageId: string | undefined;
}

/** What the engine keeps in a job's state about the message whose delivery wrote it last. */
interface DeliveryStamp {
  deliveredBy?: string;
}

/**
 * The dependencies of one delivery: every write of the job it names records the message's id, so
 * that a later delivery of the same message knows the job's latest writes were its own.
 */
function stampingWrites(deps: Deps, jobId: string, messageId: string | undefined): Deps {
  if (messageId === undefined) return deps;
  const jobs = deps.store.jobs;
  const update: typeof jobs.update = (item, expectedVersion) =>
    jobs.update(
      item.id === jobId ? { ...item, state: { ...item.state, deliveredBy: messageId } } : item,
      expectedVersion,
    );
  return { ...deps, store: replacing(deps.store, 'jobs', replacing(jobs, 'update', update)) };
}

/** `target` with one member replaced; its other methods still run on `target` itself. */
function replacing<T extends object, K extends keyof T>(target: T, key: K, value: T[K]): T {
  return new Proxy(target, {
    get(t, prop) {
      if (prop === key) return value;
      const member: unknown = Reflect.get(t, prop, t);
      return typeof member === 'function' ? (member as (...a: unknown[]) => unknown).bind(t) : member;
    },
  });
}

/**
 * A message whose version the job has left, delivered for the first time, is a duplicate of a chain
 * that moved on: its successor is in the queue. Delivered again (a count above one, a re-send that
 * carries its attempt, or the job's latest writes made by this very message), it is the message of
 * a delivery that died or failed after writing the job and possibly before sending the successor:
 * it carries on. EventBridge's events carry no delivery count, but they carry the message's id.
 */
function isStale(deps: Deps, job: Job, message: JobMessageBody, delivery: Delivery): boolean {
  if (message.seq === undefined || message.seq === job.version) return false;
  const again =
    delivery.receiveCount > 1 ||
    (message.attempt ?? 0) > 0 ||
    (delivery.messageId !== undefined && (job.state as DeliveryStamp).deliveredBy === delivery.messageId);
  return !again && !stalled(deps, job);
}

function stalled(deps: Deps, job: Job): boolean {
  return deps.clock.now() - job.updatedAt > deps.settings.JOB_STALL_SECONDS * 1000;
}

function kindOf(kinds: JobKinds, job: Job): JobKind {
  const kind = kinds[job.type];
  if (!kind) throw new Error(`no worker for ${job.type} jobs`);
  return kind;
}

/** One step of a job: a pending cancel first, then the step its kind declares (or the clean-up). */
async function runOne(ctx: StepContext, kind: JobKind, job: Job): Promise<StepResult> {
  try {
    if (job.step !== CLEANUP_STEP && cancelPending(job)) {
      const handled = await honourCancel(ctx, kind, job);
      if (handled) return handled;
    }
    if (job.step === CLEANUP_STEP) return await cleanupStep(ctx, kind, job);
    // A job that has not started is at its kind's first step, whatever name its record was created with.
    const name = job.status === 'QUEUED' || job.status === 'CREATED' ? kind.firstStep : job.step;
    const step = kind.steps[name];
    if (!step) return await fail(ctx, kind, job, `unknown ${job.type} step "${name}"`);
    return await step(ctx, job);
  } catch (err) {
    if (err instanceof LostRace) throw err;
    // A step may have saved before ECS refused: the policy writes on the latest version.
    return onStepError(ctx, kind, ctx.current ?? job, err);
  }
}

async function advance(
  unstamped: Deps,
  kinds: JobKinds,
  message: JobMessageBody,
  delivery: Delivery,
): Promise<JobMessageOutcome> {
  const deps = stampingWrites(unstamped, message.jobId, delivery.messageId);
  const job = await deps.store.jobs.get(message.jobId);
  if (!job) {
    await deps.deadLetterQueue.send(encodeJobMessageBody(message));
    deps.log.error('message for an unknown job dead-lettered', { jobId: message.jobId });
    return { kind: 'dead-lettered', jobId: message.jobId, reason: 'unknown job' };
  }
  if (isTerminal(job.status)) {
    // The delivery that finished the job may have died before raising its event: raising is idempotent.
    await raiseJobEvent(deps, job);
    return { kind: 'ignored', jobId: job.id, why: `job is ${job.status}` };
  }
  if (isStale(deps, job, message, delivery)) return { kind: 'ignored', jobId: job.id, why: 'stale message' };
  const kind = kindOf(kinds, job);
  const ctx = jobContext(deps);
  let current = job;
  for (let i = 0; i < MAX_STEPS_PER_DELIVERY; i += 1) {
    ctx.current = current;
    const result = await runOne(ctx, kind, current);
    if (result.next === 'continue') {
      current = result.job;
      continue;
    }
    if (result.next === 'wait') {
      await sendFollowUp(deps, result.job, result.delaySeconds);
      return { kind: 'waiting', jobId: job.id, delaySeconds: result.delaySeconds };
    }
    await afterFinish(deps, kind, result.job);
    await raiseJobEvent(deps, result.job);
    return { kind: 'finished', jobId: job.id, status: result.job.status };
  }
  await sendFollowUp(deps, current, 0);
  return { kind: 'waiting', jobId: job.id, delaySeconds: 0 };
}

async function sendFollowUp(deps: Deps, job: Job, delaySeconds: number): Promise<void> {
  await deps.jobQueue.send(encodeJobMessageBody({ v: 1, jobId: job.id, seq: job.version }), { delaySeconds });
}

async function afterFinish(deps: Deps, kind: JobKind, job: Job): Promise<void> {
  if (!kind.afterFinish) return;
  try {
    await kind.afterFinish(deps, job);
  } catch (err) {
    deps.log.warn('work after a finished job failed; it is retried by its own schedule', {
      jobId: job.id,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/**
 * A job whose deliveries keep failing ends FAILED. One that started first winds down, so its
 * clean-up runs through the normal loop (a fresh message); one already cleaning up ends at once,
 * naming what is left.
 */
async function deadLetter(
  deps: Deps,
  kinds: JobKinds,
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
    const ctx = jobContext(deps);
    ctx.current = job;
    try {
      const kind = kindOf(kinds, job);
      const result =
        job.step === CLEANUP_STEP
          ? await fail(ctx, kind, job, reason)
          : await windDown(ctx, job, 'FAILED', reason);
      if (result.next !== 'stop') await sendFollowUp(deps, result.job, 0);
      else await raiseJobEvent(deps, result.job);
      break;
    } catch (failErr) {
      if (failErr instanceof LostRace) continue;
      const written = await deps.store.jobs.update(
        transition(job, 'FAILED', deps.clock.now(), { reason }),
        job.version,
      );
      if (written.ok) {
        await raiseJobEvent(deps, written.value);
        break;
      }
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
  const delaySeconds = retryDelaySeconds(attempt, 1);
  await deps.jobQueue.send(encodeJobMessageBody({ v: 1, jobId: message.jobId, attempt }), { delaySeconds });
  return delaySeconds;
}
