import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEmbeddedQueue } from '../../lib/adapters/embedded-queue/index.js';
import { MAX_DELAY_SECONDS, QueueError, QueueReceiptError, type Queue } from '../../lib/ports/queue.js';
import { ManualClock } from '../support/clock.js';
import { describeQueueContract } from './queue.contract.js';
import { embeddedQueueFixture } from './support/queue-fixtures.js';

describeQueueContract('embedded (SQLite)', embeddedQueueFixture);

describe('embedded queue on a manual clock', () => {
  let dir: string;
  let file: string;
  let clock: ManualClock;
  const open: Queue[] = [];
  const openQueue = (name: string, maxReceiveCount = 1000, deadLetterQueue?: string) => {
    const q = openEmbeddedQueue(
      file,
      name,
      { visibilityTimeoutSeconds: 30, maxReceiveCount, deadLetterQueue },
      clock,
    );
    open.push(q);
    return q;
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ecsb-queue-clock-'));
    file = path.join(dir, 'queue.db');
    clock = new ManualClock(Date.UTC(2026, 0, 1));
  });
  afterEach(async () => {
    for (const q of open.splice(0)) await q.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds a message back for exactly its delay, up to seven days', async () => {
    const q = openQueue('jobs');
    await q.send('in a week', { delaySeconds: MAX_DELAY_SECONDS });
    clock.advance(MAX_DELAY_SECONDS * 1000 - 1);
    expect(await q.receive()).toEqual([]);
    clock.advance(1);
    const [m] = await q.receive();
    expect(m).toMatchObject({ body: 'in a week', enqueuedAt: Date.UTC(2026, 0, 1) });
  });

  it('hides a received message for exactly the visibility timeout', async () => {
    const q = openQueue('jobs');
    await q.send('x');
    const [m] = await q.receive();
    clock.advance(29_999);
    expect(await q.receive()).toEqual([]);
    await q.delete(m!.receiptHandle).then(() => q.send('y'));
    clock.advance(1);
    const [next] = await q.receive();
    expect(next?.body).toBe('y');
  });

  it('keeps the message id and enqueue time when it dead-letters, and wakes the dead-letter queue', async () => {
    const dlq = openQueue('jobs-dlq');
    const q = openQueue('jobs', 1, 'jobs-dlq');
    const { messageId } = await q.send('poison');
    await q.receive();
    clock.advance(30_000);
    const waiting = dlq.receive({ waitSeconds: 10 });
    expect(await q.receive()).toEqual([]);
    const [dead] = await waiting;
    expect(dead).toMatchObject({
      messageId,
      body: 'poison',
      receiveCount: 1,
      enqueuedAt: Date.UTC(2026, 0, 1),
    });
  });

  it('fills a batch past dead-lettered messages', async () => {
    openQueue('jobs-dlq');
    const q = openQueue('jobs', 1, 'jobs-dlq');
    await q.send('poison');
    await q.receive();
    clock.advance(30_000);
    await q.send('good 1');
    await q.send('good 2');
    const got = await q.receive({ max: 2 });
    expect(got.map((m) => m.body)).toEqual(['good 1', 'good 2']);
  });

  it('redelivers forever when no dead-letter queue is set', async () => {
    const q = openQueue('jobs', 1);
    await q.send('x');
    for (let i = 1; i <= 3; i += 1) {
      const [m] = await q.receive();
      expect(m?.receiveCount).toBe(i);
      clock.advance(30_000);
    }
  });

  it('ends a pending long poll with no messages when the queue closes', async () => {
    const q = openEmbeddedQueue(file, 'jobs', { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 }, clock);
    const started = performance.now();
    const pending = q.receive({ waitSeconds: 20 });
    await new Promise((r) => setTimeout(r, 100));
    await q.close();
    expect(await pending).toEqual([]);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('refuses bad settings and an unusable file with a clear error', () => {
    const ok = { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 };
    expect(() => openEmbeddedQueue(file, 'jobs', { ...ok, visibilityTimeoutSeconds: 0 })).toThrow(QueueError);
    expect(() => openEmbeddedQueue(file, 'jobs', { ...ok, maxReceiveCount: 0 })).toThrow(/maxReceiveCount/);
    expect(() => openEmbeddedQueue(file, 'bad_name', ok)).toThrow(/invalid queue name/);
    expect(() => openEmbeddedQueue(file, 'jobs', { ...ok, deadLetterQueue: 'jobs' })).toThrow(
      /own dead-letter/,
    );
    expect(() => openEmbeddedQueue(path.join(dir, 'missing', 'q.db'), 'jobs', ok)).toThrow(QueueError);
  });

  it('shares the file with other tables, in WAL mode, at a recorded schema version', async () => {
    const q = openQueue('jobs');
    await q.send('x');
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT version FROM queue_schema').get()).toEqual({ version: 2 });
      expect(db.pragma('user_version', { simple: true })).toBe(0);
    } finally {
      db.close();
    }
    // Opening again does not migrate twice.
    const again = openQueue('jobs');
    const [m] = await again.receive();
    expect(m?.body).toBe('x');
  });

  it('refuses a handle from another queue in the same file', async () => {
    const a = openQueue('a');
    const b = openQueue('b');
    await a.send('x');
    const [m] = await a.receive();
    await expect(b.delete(m!.receiptHandle)).rejects.toBeInstanceOf(QueueReceiptError);
    await a.delete(m!.receiptHandle);
  });
});
