import { randomUUID } from 'node:crypto';
import { encodeMnsBody } from '../../lib/adapters/mns/codec.js';
import type { Queue, ReceivedMessage } from '../../lib/ports/queue.js';
import type { FcMnsCloudEvent } from '../../lib/runtime/fc.js';

export interface MnsTriggerOptions {
  /** The job queue, read with EventBridge's own access (its service-linked role in the cloud). */
  source: Queue;
  /** `runOptions.deadLetterQueue`: where an event goes once its retries are spent. */
  deadLetter: Queue;
  queueName: string;
  invoke(events: FcMnsCloudEvent[]): Promise<unknown>;
  /** `batchWindow.CountBasedWindow`. */
  batchSize: number;
  /** Retries after the first failed push (BACKOFF_RETRY gives 3). */
  retries?: number;
  /** Wait before retry n (1-based); EventBridge waits 10-20 s, tests less. */
  retryDelayMs?: (attempt: number) => number;
  onError?(err: unknown): void;
}

/**
 * Plays the worker's EventBridge MNS trigger as configured in `serverless.yml`: it consumes
 * messages from the queue (EventBridge deletes what it has read), pushes them to the function as a
 * CloudEvent array whose `messageBody` is the body as sent (IsBase64Decode off, so a deflated
 * `z:` body survives) and which carries no dequeue count; a failed push is retried with backoff and
 * then sent to the dead-letter queue instead of being discarded.
 */
export function startMnsTrigger(options: MnsTriggerOptions): {
  stop(): Promise<void>;
  stats: { pushed: number; failedPushes: number; deadLettered: number };
} {
  const stats = { pushed: 0, failedPushes: 0, deadLettered: 0 };
  const retries = options.retries ?? 3;
  const delay = options.retryDelayMs ?? ((n: number) => 10_000 + 5_000 * (n - 1));
  let running = true;
  const inFlight = new Set<Promise<void>>();

  const push = async (messages: ReceivedMessage[]) => {
    const events = messages.map((m) => cloudEvent(m, options.queueName));
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, delay(attempt)));
      try {
        await options.invoke(events);
        stats.pushed += 1;
        return;
      } catch (err) {
        stats.failedPushes += 1;
        options.onError?.(err);
      }
    }
    for (const event of events) {
      await options.deadLetter.send(JSON.stringify(event));
      stats.deadLettered += 1;
    }
  };

  const loop = async () => {
    while (running) {
      let messages: ReceivedMessage[];
      try {
        messages = await options.source.receive({ max: options.batchSize, waitSeconds: 1 });
      } catch (err) {
        if (!running) break;
        options.onError?.(err);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (messages.length === 0) continue;
      // EventBridge consumes what it read; delivery from here on is its own retry and dead-letter.
      await Promise.all(messages.map((m) => options.source.delete(m.receiptHandle).catch(options.onError)));
      const p = push(messages).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  };
  const looping = loop();
  return {
    stats,
    async stop() {
      running = false;
      await looping;
      await Promise.all(inFlight);
    },
  };
}

function cloudEvent(message: ReceivedMessage, queueName: string): FcMnsCloudEvent {
  return {
    id: randomUUID(),
    source: `acs:mns:cn-hangzhou:000000:queues/${queueName}`,
    specversion: '1.0',
    type: 'mns:Queue:SendMessage',
    subject: `acs:mns:cn-hangzhou:000000:queues/${queueName}/messages/${message.messageId}`,
    time: new Date(message.enqueuedAt).toISOString(),
    datacontenttype: 'application/json;charset=utf-8',
    data: {
      requestId: randomUUID(),
      messageId: message.messageId,
      // The body as MNS holds it: the adapter decoded it on receive, this is its exact encoding again.
      messageBody: encodeMnsBody(message.body),
    },
  };
}
