import type { Job } from '../../domain/model.js';
import type { InvocationStatus } from '../../ports/ecs.js';
import type { EngineState, StepContext, StepResult } from './job-kind.js';
import { next, record } from './job-writes.js';

/** Cloud Assistant states after which a command runs no more. */
export const SETTLED: ReadonlySet<InvocationStatus> = new Set<InvocationStatus>([
  'Success',
  'Failed',
  'Error',
  'Timeout',
  'Cancelled',
  'Terminated',
  'Aborted',
  'Invalid',
]);

/** What a job that runs one guest command keeps of it. */
export interface GuestCommandState extends EngineState {
  /** The command was (or is about to be) sent with the job's ClientToken. */
  guestRequested?: boolean;
  invokeId?: string;
}

/**
 * Sends a job's guest command once, then goes to `then`. The intent is written before the send and
 * the send carries the job's ClientToken, so a worker that dies in between sends it again and Cloud
 * Assistant answers with the first invocation instead of running the script twice.
 */
export async function sendGuestCommandOnce(
  ctx: StepContext,
  job: Job,
  send: (job: Job) => Promise<string>,
  then: string,
  progress: number,
): Promise<StepResult> {
  const st = job.state as GuestCommandState;
  if (st.invokeId) return next(ctx, job, then);
  const current = st.guestRequested
    ? job
    : await record<GuestCommandState>(ctx, job, { guestRequested: true });
  const invokeId = await send(current);
  return next<GuestCommandState>(ctx, current, then, { invokeId }, progress);
}
