import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_BODY_BYTES,
  MAX_DELAY_SECONDS,
  QueueError,
  QueueReceiptError,
  type Queue,
  type QueueSettings,
  type ReceivedMessage,
} from '../../lib/ports/queue.js';

/** What each adapter's test file provides to the shared suite. */
export interface QueueFixture {
  /**
   * A new handle on the named queue, created with these settings if needed. The suite opens a
   * dead-letter queue before the queue that names it.
   */
  open(name: string, settings: QueueSettings): Promise<Queue>;
  dispose(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const settings = (visibilityTimeoutSeconds: number, extra: Partial<QueueSettings> = {}): QueueSettings => ({
  visibilityTimeoutSeconds,
  maxReceiveCount: 1000,
  ...extra,
});

/** Exactly `bytes` UTF-8 bytes of XML-special, control and multi-byte characters. */
export function awkwardBody(bytes: number): string {
  const pattern = '<a href="x">&amp; ]]> \' " &lt; \u0001\t\r\n 你好 😀 é\u0000 ';
  let out = '';
  while (Buffer.byteLength(out, 'utf8') + Buffer.byteLength(pattern, 'utf8') <= bytes) out += pattern;
  return out + 'x'.repeat(bytes - Buffer.byteLength(out, 'utf8'));
}

/**
 * Receives until `count` distinct messages arrived or `timeoutMs` passed. Each message is kept as
 * first received: on a slow run a short visibility timeout may hand it out again meanwhile.
 */
async function drain(queue: Queue, count: number, timeoutMs: number): Promise<ReceivedMessage[]> {
  const seen = new Map<string, ReceivedMessage>();
  const until = performance.now() + timeoutMs;
  while (seen.size < count && performance.now() < until) {
    for (const m of await queue.receive({ max: 16, waitSeconds: 1 }))
      if (!seen.has(m.messageId)) seen.set(m.messageId, m);
  }
  return [...seen.values()];
}

/**
 * Long-poll for a message that is due: generous, since it returns as soon as the message is
 * visible and only a broken queue makes a test wait this long.
 */
const DUE = 20;

export function describeQueueContract(name: string, factory: () => Promise<QueueFixture>): void {
  describe(`Queue contract: ${name}`, () => {
    let fixture: QueueFixture;
    const opened: Queue[] = [];
    const run = randomBytes(3).toString('hex');
    let counter = 0;
    const uniqueName = () => `ct-${run}-${(counter += 1)}`;
    const open = async (queueName: string, s: QueueSettings) => {
      const q = await fixture.open(queueName, s);
      opened.push(q);
      return q;
    };

    beforeAll(async () => {
      fixture = await factory();
    });
    afterAll(async () => {
      for (const q of opened) await q.close();
      await fixture?.dispose();
    });

    it('sends, receives and deletes a message', async () => {
      const q = await open(uniqueName(), settings(30));
      const before = Date.now();
      const { messageId } = await q.send('{"v":1,"jobId":"job-1"}');
      const [m, ...rest] = await q.receive({ waitSeconds: DUE });
      expect(rest).toEqual([]);
      expect(m).toMatchObject({ messageId, body: '{"v":1,"jobId":"job-1"}', receiveCount: 1 });
      expect(m?.receiptHandle).toEqual(expect.any(String));
      expect(m?.enqueuedAt).toBeGreaterThanOrEqual(before - 5_000);
      expect(m?.enqueuedAt).toBeLessThanOrEqual(Date.now() + 5_000);
      await q.delete(m!.receiptHandle);
      expect(await q.receive()).toEqual([]);
      await expect(q.delete(m!.receiptHandle)).rejects.toBeInstanceOf(QueueReceiptError);
    });

    it('delivers a received message again after its visibility timeout, with a new handle', async () => {
      const q = await open(uniqueName(), settings(2));
      const { messageId } = await q.send('again');
      const receivedFrom = performance.now();
      const [first] = await q.receive({ waitSeconds: DUE });
      expect(first?.messageId).toBe(messageId);
      // The long poll answers as soon as the message is visible again: not before the 2 s are up
      // (a bound that holds however slow the machine, unlike a receive that must come in time).
      const [second] = await q.receive({ waitSeconds: DUE });
      expect(performance.now() - receivedFrom).toBeGreaterThanOrEqual(1_900);
      expect(second).toMatchObject({ messageId, body: 'again', receiveCount: 2 });
      expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
      await expect(q.delete(first!.receiptHandle)).rejects.toBeInstanceOf(QueueReceiptError);
      await q.delete(second!.receiptHandle);
      expect(await q.receive()).toEqual([]);
    });

    it('retires a handle once its message is visible again, even before anyone receives it', async () => {
      const q = await open(uniqueName(), settings(1));
      await q.send('expired handle');
      const [m] = await q.receive({ waitSeconds: DUE });
      await sleep(1_500);
      await expect(q.delete(m!.receiptHandle)).rejects.toBeInstanceOf(QueueReceiptError);
      await expect(q.changeVisibility(m!.receiptHandle, 30)).rejects.toBeInstanceOf(QueueReceiptError);
      const [again] = await q.receive({ waitSeconds: DUE });
      expect(again).toMatchObject({ messageId: m!.messageId, receiveCount: 2 });
    });

    it('does not deliver a delayed message before its delay', async () => {
      const q = await open(uniqueName(), settings(30));
      const sentAt = performance.now();
      const delayed = await q.send('later', { delaySeconds: 2 });
      const hidden = await q.send('next minute', { delaySeconds: 60 });
      const now = await q.send('now');
      // The undelayed message at once, the minute-delayed one not; whether the 2 s one is already
      // due depends on the machine's speed, so it is judged by when it arrives.
      const first = await q.receive({ max: 16 });
      expect(first.map((m) => m.messageId)).toContain(now.messageId);
      expect(first.map((m) => m.messageId)).not.toContain(hidden.messageId);
      const second =
        first.find((m) => m.messageId === delayed.messageId) ?? (await q.receive({ waitSeconds: DUE }))[0];
      expect(performance.now() - sentAt).toBeGreaterThanOrEqual(1_900);
      expect(second).toMatchObject({ messageId: delayed.messageId, body: 'later', receiveCount: 1 });
      expect(await q.receive()).toEqual([]);
    });

    it('changeVisibility returns a new handle, retires the old one and holds the message back', async () => {
      // 4 s for the change to reach the queue before the message shows again, even on a busy machine.
      const q = await open(uniqueName(), settings(4));
      await q.send('extend me');
      const [m] = await q.receive({ waitSeconds: DUE });
      const handle = await q.changeVisibility(m!.receiptHandle, 30);
      expect(handle).toEqual(expect.any(String));
      expect(handle).not.toBe(m!.receiptHandle);
      await expect(q.delete(m!.receiptHandle)).rejects.toBeInstanceOf(QueueReceiptError);
      await expect(q.changeVisibility(m!.receiptHandle, 5)).rejects.toBeInstanceOf(QueueReceiptError);
      // The queue's own timeout (4 s) passes; the extended one (30 s) keeps the message hidden.
      expect(await q.receive({ waitSeconds: 5 })).toEqual([]);
      await q.delete(handle);
      expect(await q.receive()).toEqual([]);
    });

    it('changeVisibility can also release a message sooner', async () => {
      const q = await open(uniqueName(), settings(60));
      await q.send('release me');
      const [m] = await q.receive({ waitSeconds: DUE });
      await q.changeVisibility(m!.receiptHandle, 1);
      const [again] = await q.receive({ waitSeconds: DUE });
      expect(again).toMatchObject({ messageId: m!.messageId, receiveCount: 2 });
    });

    it('counts receives', async () => {
      const q = await open(uniqueName(), settings(1));
      await q.send('count me');
      const counts: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const [m] = await q.receive({ waitSeconds: DUE });
        counts.push(m?.receiveCount ?? -1);
      }
      expect(counts).toEqual([1, 2, 3]);
    });

    it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
      const dlqName = uniqueName();
      const dlq = await open(dlqName, settings(30));
      const q = await open(uniqueName(), settings(1, { maxReceiveCount: 2, deadLetterQueue: dlqName }));
      await q.send('poison');
      const [first] = await q.receive({ waitSeconds: DUE });
      const [second] = await q.receive({ waitSeconds: DUE });
      expect([first?.receiveCount, second?.receiveCount]).toEqual([1, 2]);
      // The third receive finds the message past its limit: moved, not delivered.
      expect(await q.receive({ waitSeconds: 3 })).toEqual([]);
      const [dead] = await dlq.receive({ waitSeconds: DUE });
      expect(dead).toMatchObject({ body: 'poison', receiveCount: 1 });
      expect(await q.receive()).toEqual([]);
    });

    it('never hands the same message to two consumers receiving batches at once', async () => {
      const queueName = uniqueName();
      const a = await open(queueName, settings(60));
      const b = await open(queueName, settings(60));
      const total = 40;
      for (let i = 0; i < total; i += 8) {
        await Promise.all(Array.from({ length: 8 }, (_, j) => a.send(`m${i + j}`)));
      }
      const batches: ReceivedMessage[][] = [];
      const consume = async (q: Queue) => {
        for (;;) {
          const batch = await q.receive({ max: 16, waitSeconds: 1 });
          if (batch.length === 0) return;
          batches.push(batch);
        }
      };
      await Promise.all([consume(a), consume(b), consume(a), consume(b)]);
      const ids = batches.flat().map((m) => m.messageId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(total);
      expect(new Set(batches.flat().map((m) => m.body)).size).toBe(total);
      expect(Math.max(...batches.map((x) => x.length))).toBeGreaterThan(1);
      expect(Math.max(...batches.map((x) => x.length))).toBeLessThanOrEqual(16);
    });

    it('long poll returns when a message arrives, and returns empty after waitSeconds otherwise', async () => {
      const q = await open(uniqueName(), settings(30));
      const emptyStart = performance.now();
      expect(await q.receive({ waitSeconds: 1 })).toEqual([]);
      expect(performance.now() - emptyStart).toBeGreaterThanOrEqual(900);

      const start = performance.now();
      const pending = q.receive({ waitSeconds: 20 });
      await sleep(300);
      await q.send('wake up');
      const [m] = await pending;
      expect(m?.body).toBe('wake up');
      expect(performance.now() - start).toBeLessThan(15_000);
    });

    it('round-trips a 64 KB body of XML-special, control and multi-byte characters', async () => {
      const q = await open(uniqueName(), settings(30));
      const big = awkwardBody(MAX_BODY_BYTES);
      expect(Buffer.byteLength(big, 'utf8')).toBe(MAX_BODY_BYTES);
      const small = `<Message><MessageBody>]]>&</MessageBody></Message> \r\n 😀`;
      await q.send(big);
      await q.send(small);
      const got = await drain(q, 2, 30_000);
      expect(got.map((m) => m.body).sort()).toEqual([big, small].sort());
    });

    it('refuses an oversize body, a bad delay and out-of-range receive options with a clear error', async () => {
      const q = await open(uniqueName(), settings(30));
      await expect(q.send('x'.repeat(MAX_BODY_BYTES + 1))).rejects.toThrow(/65537 bytes; the limit is 65536/);
      // The limit is in UTF-8 bytes, not characters.
      await expect(q.send('é'.repeat(MAX_BODY_BYTES / 2 + 1))).rejects.toBeInstanceOf(QueueError);
      await expect(q.send('')).rejects.toThrow(/non-empty/);
      for (const delaySeconds of [-1, MAX_DELAY_SECONDS + 1, 1.5]) {
        await expect(q.send('x', { delaySeconds })).rejects.toThrow(
          /delaySeconds must be an integer from 0 to 604800/,
        );
      }
      await expect(q.receive({ max: 0 })).rejects.toThrow(/max must be/);
      await expect(q.receive({ max: 17 })).rejects.toThrow(/max must be/);
      await expect(q.receive({ waitSeconds: 31 })).rejects.toThrow(/waitSeconds must be/);
      // The longest delay is accepted and keeps the message out of sight.
      await q.send('next week', { delaySeconds: MAX_DELAY_SECONDS });
      await q.send('now');
      const [m] = await q.receive({ waitSeconds: DUE });
      expect(m?.body).toBe('now');
      await expect(q.changeVisibility(m!.receiptHandle, 43_201)).rejects.toThrow(
        /visibility timeout must be/,
      );
      await expect(q.changeVisibility(m!.receiptHandle, 0)).rejects.toBeInstanceOf(QueueError);
      expect(await q.receive()).toEqual([]);
    });

    it('treats unknown handles as stale receipts', async () => {
      const q = await open(uniqueName(), settings(30));
      for (const handle of ['nonsense', '12.abc', '1-0123456789abcdef01234567', 'a&b=c']) {
        await expect(q.delete(handle)).rejects.toBeInstanceOf(QueueReceiptError);
        await expect(q.changeVisibility(handle, 10)).rejects.toBeInstanceOf(QueueReceiptError);
      }
    });

    it('keeps queues apart', async () => {
      const a = await open(uniqueName(), settings(30));
      const b = await open(uniqueName(), settings(30));
      await a.send('for a');
      expect(await b.receive()).toEqual([]);
      const [m] = await a.receive({ waitSeconds: DUE });
      expect(m?.body).toBe('for a');
    });

    it('loses nothing when closed and opened again', async () => {
      const queueName = uniqueName();
      const q = await open(queueName, settings(1));
      await q.send('a');
      await q.send('b');
      await q.send('c', { delaySeconds: 1 });
      const [inFlight] = await q.receive({ waitSeconds: DUE });
      expect(inFlight).toBeDefined();
      await q.close();
      await expect(q.send('after close')).rejects.toBeInstanceOf(QueueError);
      await expect(q.receive()).rejects.toBeInstanceOf(QueueError);

      const reopened = await open(queueName, settings(1));
      const got = await drain(reopened, 3, 30_000);
      expect(got.map((m) => m.body).sort()).toEqual(['a', 'b', 'c']);
      const again = got.find((m) => m.messageId === inFlight!.messageId);
      expect(again?.receiveCount).toBe(2);
    });
  });
}
