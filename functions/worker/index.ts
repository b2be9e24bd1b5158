import { coldStart, type FcFunction } from '../../lib/runtime/cold-start.js';
import type { Deps } from '../../lib/runtime/deps.js';
import { decodeQueueBody } from '../../lib/runtime/queue-body.js';
import { JOB_KINDS } from '../../lib/usecases/job-kinds.js';
import {
  handleJobMessage,
  retryJobMessageLater,
  type JobMessageOutcome,
} from '../../lib/usecases/jobs/handle-job-message.js';
import { decodeDeliveryMessage } from '../../lib/usecases/notify/delivery-message.js';
import { handleDeliveryMessage, type DeliveryOutcome } from '../../lib/usecases/notify/deliver.js';
import { mnsTriggerEventSchema, type MnsCloudEvent } from '../shared/events.js';
import { fcFunction } from '../shared/middlewares.js';

export interface WorkerResult {
  /** Messages that failed; each was sent again on its own with a backoff delay. */
  batchItemFailures: { itemIdentifier: string; error: string; retryInSeconds: number }[];
  outcomes: (JobMessageOutcome | DeliveryOutcome | { kind: 'failed'; messageId: string })[];
}

/**
 * The delivery count travels in the message body: EventBridge's MNS events carry no DequeueCount,
 * so a failed message is sent again with its attempt number (retryJobMessageLater) and the worker
 * dead-letters it, failing its job, once the count reaches MAX_RECEIVE_COUNT, as locally.
 */
async function handleOne(deps: Deps, event: MnsCloudEvent, failures: WorkerResult['batchItemFailures']) {
  // The trigger passes the body as sent (base64 or deflated); a plain JSON body passes through.
  const body = decodeQueueBody(event.data.messageBody);
  const receiveCount = event.data.dequeueCount ?? 1;
  const delivery = decodeDeliveryMessage(body);
  try {
    if (delivery !== null) return await handleDeliveryMessage(deps, delivery);
    return await handleJobMessage(deps, JOB_KINDS, body, receiveCount, event.data.messageId);
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    deps.log.error('job message failed; retrying it alone', { messageId: event.data.messageId, error });
    // If this send fails too, the invocation fails and the trigger redelivers the batch: still idempotent.
    // A notification carries its own retry count; its message is sent again as it is.
    const retryInSeconds =
      delivery !== null
        ? await deps.jobQueue.send(body, { delaySeconds: 60 }).then(() => 60)
        : await retryJobMessageLater(deps, body, receiveCount);
    failures.push({ itemIdentifier: event.data.messageId, error, retryInSeconds });
    return { kind: 'failed' as const, messageId: event.data.messageId };
  }
}

/** MNS trigger (through EventBridge): one CloudEvent, or an array of them in batch mode. */
export function createHandler(deps: Deps): FcFunction<WorkerResult> {
  return fcFunction(
    'worker',
    mnsTriggerEventSchema,
    async (event: MnsCloudEvent | MnsCloudEvent[]) => {
      const events = Array.isArray(event) ? event : [event];
      const failures: WorkerResult['batchItemFailures'] = [];
      const outcomes = await Promise.all(events.map((e) => handleOne(deps, e, failures)));
      return { batchItemFailures: failures, outcomes };
    },
    deps.log,
  );
}

export const handler: FcFunction<WorkerResult> = coldStart(createHandler);
