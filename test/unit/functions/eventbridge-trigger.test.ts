import { describe, expect, it } from 'vitest';
import { decodeMnsBody, encodeMnsBody } from '../../../lib/adapters/mns/codec.js';
import type { Queue, ReceivedMessage } from '../../../lib/ports/queue.js';
import type { FcMnsCloudEvent } from '../../../lib/runtime/fc.js';
import { startMnsTrigger } from '../../../local/cloud-mode/eventbridge.js';
import { until } from '../../e2e/support.js';

/** An in-memory queue: enough to watch what the trigger consumes, deletes and dead-letters. */
function memoryQueue(name: string) {
  const messages: ReceivedMessage[] = [];
  const deleted: string[] = [];
  const sent: string[] = [];
  let n = 0;
  const queue = {
    name,
    async send(body: string) {
      sent.push(body);
      n += 1;
      messages.push({ messageId: `m${n}`, body, receiptHandle: `h${n}`, receiveCount: 1, enqueuedAt: 0 });
      return { messageId: `m${n}` };
    },
    async receive(options?: { max?: number; waitSeconds?: number }) {
      const out = messages.splice(0, options?.max ?? 1);
      if (out.length === 0) await new Promise((r) => setTimeout(r, 5));
      return out;
    },
    async delete(handle: string) {
      deleted.push(handle);
    },
    async changeVisibility() {
      return 'x';
    },
    async close() {},
  } as unknown as Queue;
  return { queue, deleted, sent };
}

describe('the EventBridge MNS trigger as configured', () => {
  it('pushes CloudEvents with the body as sent and no dequeue count, and deletes what it read', async () => {
    const source = memoryQueue('jobs');
    const dlq = memoryQueue('dlq');
    const pushed: FcMnsCloudEvent[][] = [];
    const body = JSON.stringify({ v: 1, jobId: 'job-1', pad: 'y'.repeat(60_000) });
    await source.queue.send(body);
    const trigger = startMnsTrigger({
      source: source.queue,
      deadLetter: dlq.queue,
      queueName: 'jobs',
      batchSize: 10,
      invoke: async (events) => void pushed.push(events),
    });
    try {
      await until('the push', async () => pushed.length === 1);
    } finally {
      await trigger.stop();
    }
    const data = pushed[0]![0]!.data;
    expect(data.messageBody).toBe(encodeMnsBody(body));
    expect(data.messageBody.startsWith('z:')).toBe(true);
    expect(decodeMnsBody(data.messageBody)).toBe(body);
    expect(data).not.toHaveProperty('dequeueCount');
    expect(source.deleted).toEqual(['h1']);
    expect(dlq.sent).toEqual([]);
  });

  it('retries a failing push with backoff, then dead-letters the event instead of discarding it', async () => {
    const source = memoryQueue('jobs');
    const dlq = memoryQueue('dlq');
    let attempts = 0;
    await source.queue.send('{"v":1,"jobId":"job-crash"}');
    const trigger = startMnsTrigger({
      source: source.queue,
      deadLetter: dlq.queue,
      queueName: 'jobs',
      batchSize: 10,
      retries: 3,
      retryDelayMs: () => 1,
      invoke: async () => {
        attempts += 1;
        throw new Error('the function crashed');
      },
    });
    try {
      await until('the dead letter', async () => dlq.sent.length === 1);
    } finally {
      await trigger.stop();
    }
    expect(attempts).toBe(4);
    const event = JSON.parse(dlq.sent[0]!) as FcMnsCloudEvent;
    expect(decodeMnsBody(event.data.messageBody)).toBe('{"v":1,"jobId":"job-crash"}');
    expect(trigger.stats).toMatchObject({ pushed: 0, failedPushes: 4, deadLettered: 1 });
  });
});
