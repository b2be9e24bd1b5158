import { isTerminal } from '../../domain/job.js';
import type { Deps } from '../deps.js';
import { raiseJobEvent } from '../notify/raise-event.js';
import { jobContext } from './job-context.js';
import { CLEANUP_STEP } from './job-kind.js';
import { decodeJobMessage, encodeJobMessageBody, type JobMessageBody } from './job-message.js';
import { finish, LostRace } from './job-writes.js';
import { windDown } from './wind-down.js';

/**
 * In the cloud the worker is pushed its messages by EventBridge. An invocation that dies without
 * answering (the function's timeout, out of memory) is pushed again 3 times, 10-20 s apart, and
 * then the event lands in the dead-letter queue: the worker never saw a failure to count, so the
 * local rule (dead-letter after MAX_RECEIVE_COUNT deliveries, job FAILED) cannot apply, and the job
 * would wait for the stall sweep, whose re-sent message crashes the same way again.
 *
 * The scheduler reads those events from the dead-letter queue on every tick instead:
 * - the first time, the job message is sent again on its own, a few seconds after the previous
 *   one, with the crashed pushes counted in `attempt`: a batch that crashed may have held one bad
 *   message and nine good ones, and each now gets a push of its own;
 * - a message that crashes again on its own is the job's: the job fails with that reason (after
 *   the clean-up of what it holds, which the worker runs), and its plain message stays in the
 *   dead-letter queue as the record, as when the worker dead-letters one.
 * Messages the worker dead-lettered itself are records, and are left where they are.
 */

/** EventBridge's BACKOFF_RETRY: the first push and 3 retries. */
export const PUSHES_PER_DEAD_LETTER = 4;
/** Seconds between messages sent again, more than EventBridge's batch window (1 s). */
const SPREAD_SECONDS = 3;

export interface CrashReport {
  /** Job messages sent again on their own. */
  resent: number;
  /** Jobs failed because their message crashed the worker on its own too. */
  failed: number;
}

export interface CrashOptions {
  /** Turns a pushed event's `messageBody` (as sent: base64 or deflated) into the job message. */
  decodeBody(messageBody: string): string;
  /** Receives of up to 16 messages per tick; the rest wait for the next tick. */
  maxRounds?: number;
}

/** The job message inside an event EventBridge dead-lettered, or null for anything else. */
export function crashedJobMessage(body: string, decodeBody: (b: string) => string): JobMessageBody | null {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return null;
  }
  const inner = (event as { specversion?: unknown; data?: { messageBody?: unknown } } | null) ?? {};
  if (typeof inner.specversion !== 'string' || typeof inner.data?.messageBody !== 'string') return null;
  try {
    return decodeJobMessage(decodeBody(inner.data.messageBody));
  } catch {
    return null;
  }
}

export async function recoverCrashedDeliveries(deps: Deps, options: CrashOptions): Promise<CrashReport> {
  const report: CrashReport = { resent: 0, failed: 0 };
  for (let round = 0; round < (options.maxRounds ?? 4); round += 1) {
    const received = await deps.deadLetterQueue.receive({ max: 16, waitSeconds: 0 });
    if (received.length === 0) break;
    for (const m of received) {
      const message = crashedJobMessage(m.body, options.decodeBody);
      if (message === null) continue;
      const crashed = (message.attempt ?? 0) + PUSHES_PER_DEAD_LETTER;
      if ((message.attempt ?? 0) < PUSHES_PER_DEAD_LETTER) {
        const delaySeconds = 1 + SPREAD_SECONDS * report.resent;
        await deps.jobQueue.send(encodeJobMessageBody({ ...message, attempt: crashed }), { delaySeconds });
        report.resent += 1;
        deps.log.warn('job message crashed the worker; sent again on its own', {
          jobId: message.jobId,
          crashed,
        });
      } else {
        await failCrashedJob(deps, message, crashed);
        report.failed += 1;
      }
      await deps.deadLetterQueue.delete(m.receiptHandle);
    }
  }
  return report;
}

async function failCrashedJob(deps: Deps, message: JobMessageBody, crashed: number): Promise<void> {
  const reason =
    `the worker stopped without answering (timeout or out of memory) on each of the last ${crashed} ` +
    'deliveries of this job, the last ones on their own; it was given up';
  await deps.deadLetterQueue.send(encodeJobMessageBody({ v: 1, jobId: message.jobId }));
  deps.log.error('job message crashed the worker on its own; job failed', { jobId: message.jobId, crashed });
  for (let i = 0; i < 3; i += 1) {
    const job = await deps.store.jobs.get(message.jobId);
    if (!job || isTerminal(job.status)) return;
    const ctx = jobContext(deps);
    ctx.current = job;
    try {
      // A clean-up that crashes would crash again: end the job, saying what did not finish.
      const result =
        job.step === CLEANUP_STEP
          ? await finish(ctx, job, 'FAILED', `${reason}; its clean-up did not finish`)
          : await windDown(ctx, job, 'FAILED', reason);
      // The clean-up of what the job holds is a step like any other: the worker runs it.
      if (result.next !== 'stop') {
        await deps.jobQueue.send(encodeJobMessageBody({ v: 1, jobId: job.id, seq: result.job.version }));
      } else {
        await raiseJobEvent(deps, result.job);
      }
      return;
    } catch (err) {
      if (!(err instanceof LostRace)) throw err;
    }
  }
}
