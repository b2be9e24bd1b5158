import { randomUUID } from 'node:crypto';
import { encodeMnsBody } from '../../lib/adapters/mns/codec.js';
import type { Queue, ReceivedMessage } from '../../lib/ports/queue.js';
import type { FcContext, FcMnsCloudEvent } from '../../lib/runtime/fc.js';

export type WorkerInvoke = (event: Buffer, context: FcContext) => Promise<unknown>;

export interface QueueConsumerOptions {
  /** Read on every receive, so a test may swap the queue (to duplicate deliveries, say). */
  queue: () => Queue;
  invoke: WorkerInvoke;
  /** Worker invocations in flight at once. */
  concurrency: number;
  /** Messages per invocation (the MNS trigger's batch size). */
  batchSize: number;
  queueName: string;
  onError?: (err: unknown) => void;
}

/**
 * Plays the MNS trigger: receives job messages and hands them to the worker as EventBridge
 * CloudEvents (an array in batch mode), bodies encoded as the MNS adapter sends them. Messages of a
 * successful invocation are deleted; a failed invocation leaves them to come back after their
 * visibility timeout, as FC's trigger does.
 */
export function startQueueConsumer(options: QueueConsumerOptions): {
  stop(): Promise<void>;
  idle(): boolean;
} {
  let running = true;
  const inFlight = new Set<Promise<void>>();
  let slotFreed: (() => void) | null = null;

  const invokeBatch = async (messages: ReceivedMessage[]) => {
    const queue = options.queue();
    const events: FcMnsCloudEvent[] = messages.map((m) => toCloudEvent(m, options.queueName));
    const requestId = randomUUID();
    const context: FcContext = { requestId, function: { name: 'worker', timeout: 600 } };
    try {
      await options.invoke(Buffer.from(JSON.stringify(events.length === 1 ? events[0] : events)), context);
    } catch (err) {
      options.onError?.(err);
      return;
    }
    await Promise.all(
      messages.map((m) => queue.delete(m.receiptHandle).catch((err: unknown) => options.onError?.(err))),
    );
  };

  const loop = async () => {
    while (running) {
      if (inFlight.size >= options.concurrency) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        continue;
      }
      let messages: ReceivedMessage[];
      try {
        messages = await options.queue().receive({ max: options.batchSize, waitSeconds: 1 });
      } catch (err) {
        if (!running) break;
        options.onError?.(err);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (messages.length === 0 || !running) continue;
      const p = invokeBatch(messages).finally(() => {
        inFlight.delete(p);
        const wake = slotFreed;
        slotFreed = null;
        wake?.();
      });
      inFlight.add(p);
    }
  };
  const looping = loop();

  return {
    idle: () => inFlight.size === 0,
    async stop() {
      running = false;
      const wake = slotFreed;
      slotFreed = null;
      wake?.();
      await looping;
      await Promise.all(inFlight);
    },
  };
}

export function toCloudEvent(message: ReceivedMessage, queueName: string): FcMnsCloudEvent {
  return {
    id: message.messageId,
    source: `acs:mns:local:000000:queues/${queueName}`,
    specversion: '1.0',
    type: 'mns:Queue:SendMessage',
    subject: `acs:mns:local:000000:queues/${queueName}/messages/${message.messageId}`,
    time: new Date(message.enqueuedAt).toISOString(),
    datacontenttype: 'application/json;charset=utf-8',
    data: {
      requestId: randomUUID(),
      messageId: message.messageId,
      messageBody: encodeMnsBody(message.body),
      dequeueCount: message.receiveCount,
    },
  };
}
