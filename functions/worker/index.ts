import { decodeMnsBody } from '../../lib/adapters/mns/codec.js';
import { installCloudDepsFactory } from '../../lib/runtime/build-deps.js';
import { getDeps } from '../../lib/runtime/deps.js';
import type { FcContext } from '../../lib/runtime/fc.js';
import { JOB_KINDS } from '../../lib/usecases/job-kinds.js';
import {
  handleJobMessage,
  retryJobMessageLater,
  type JobMessageOutcome,
} from '../../lib/usecases/jobs/handle-job-message.js';
import { mnsTriggerEventSchema, type MnsCloudEvent } from '../shared/events.js';
import { fcFunction } from '../shared/middlewares.js';

installCloudDepsFactory();

export interface WorkerResult {
  /** Messages that failed; each was sent again on its own with a backoff delay. */
  batchItemFailures: { itemIdentifier: string; error: string; retryInSeconds: number }[];
  outcomes: (JobMessageOutcome | { kind: 'failed'; messageId: string })[];
}

async function handleOne(event: MnsCloudEvent, failures: WorkerResult['batchItemFailures']) {
  const deps = await getDeps();
  // The MNS adapter sends bodies base64-encoded; a plain JSON body (console, other senders) passes through.
  const body = decodeMnsBody(event.data.messageBody);
  const receiveCount = event.data.dequeueCount ?? 1;
  try {
    return await handleJobMessage(deps, JOB_KINDS, body, receiveCount);
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    deps.log.error('job message failed; retrying it alone', { messageId: event.data.messageId, error });
    // If this send fails too, the invocation fails and the trigger redelivers the batch: still idempotent.
    const retryInSeconds = await retryJobMessageLater(deps, body, receiveCount);
    failures.push({ itemIdentifier: event.data.messageId, error, retryInSeconds });
    return { kind: 'failed' as const, messageId: event.data.messageId };
  }
}

/** MNS trigger (through EventBridge): one CloudEvent, or an array of them in batch mode. */
export const handler: (event: Buffer, context: FcContext) => Promise<WorkerResult> = fcFunction(
  'worker',
  mnsTriggerEventSchema,
  async (event: MnsCloudEvent | MnsCloudEvent[]) => {
    const events = Array.isArray(event) ? event : [event];
    const failures: WorkerResult['batchItemFailures'] = [];
    const outcomes = await Promise.all(events.map((e) => handleOne(e, failures)));
    return { batchItemFailures: failures, outcomes };
  },
);
