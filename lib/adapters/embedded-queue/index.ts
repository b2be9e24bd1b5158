import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Clock } from '../../ports/clock.js';
import {
  checkReceive,
  checkSend,
  checkSettings,
  checkVisibilityTimeout,
  QueueError,
  QueueReceiptError,
  type Queue,
  type QueueSettings,
  type ReceivedMessage,
  type ReceiveOptions,
  type SendOptions,
} from '../../ports/queue.js';
import { RandomIds, SystemClock } from '../system.js';
import { endLeaseOwner, leaseOwnerAlive, newLeaseOwner } from './lease.js';
import { notifyQueue, waitForQueue } from './notifier.js';
import { migrateQueueSchema } from './schema.js';

export interface EmbeddedQueueOptions {
  /**
   * How often a long poll looks at the table again. Sends from this process wake it at once;
   * this interval bounds the latency for sends from other processes and for delays that end.
   */
  pollIntervalMs?: number;
  /**
   * 'normal' (default): a commit survives a crash of the process, the last commits may be lost
   * if the machine loses power. 'full': every commit is flushed to disk (slower).
   */
  durability?: 'normal' | 'full';
}

interface Row {
  seq: number;
  message_id: string;
  body: string;
  enqueued_at: number;
  receive_count: number;
}

const ids = new RandomIds();
// Each ':memory:' database is private to its connection, so each gets its own wake-up key.
let memoryCounter = 0;

/**
 * An MNS-like queue in an SQLite file (WAL). Several named queues may share one file; a
 * dead-letter queue must live in the same file as its source queue.
 */
export function openEmbeddedQueue(
  file: string,
  name: string,
  settings: QueueSettings,
  clock: Clock = new SystemClock(),
  options: EmbeddedQueueOptions = {},
): Queue {
  checkSettings(name, settings);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: 5_000 });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    migrateQueueSchema(db);
  } catch (err) {
    db?.close();
    throw new QueueError(`cannot open queue ${name} in ${file}: ${String(err)}`, { cause: err });
  }
  return new EmbeddedQueue(db, file, name, settings, clock, options.pollIntervalMs ?? 100);
}

function newToken(): string {
  return randomBytes(9).toString('base64url');
}

function receiptOf(seq: number, token: string): string {
  return `${seq}.${token}`;
}

function parseReceipt(handle: string): { seq: number; token: string } {
  const dot = typeof handle === 'string' ? handle.indexOf('.') : -1;
  const seq = Number(handle.slice(0, Math.max(dot, 0)));
  if (dot <= 0 || !Number.isSafeInteger(seq)) throw new QueueReceiptError();
  return { seq, token: handle.slice(dot + 1) };
}

class EmbeddedQueue implements Queue {
  private closed = false;
  private readonly wakeKey: string;
  private readonly deadLetterKey: string | undefined;
  private readonly visibilityMs: number;
  private readonly insert: Database.Statement;
  private readonly selectReady: Database.Statement;
  private readonly markReceived: Database.Statement;
  private readonly moveToDeadLetter: Database.Statement;
  private readonly deleteByReceipt: Database.Statement;
  private readonly changeByReceipt: Database.Statement;
  private readonly receiveBatch: Database.Transaction<(now: number, max: number) => ReceivedMessage[]>;
  private readonly owner = newLeaseOwner();

  constructor(
    private readonly db: Database.Database,
    file: string,
    readonly name: string,
    private readonly settings: QueueSettings,
    private readonly clock: Clock,
    private readonly pollIntervalMs: number,
  ) {
    const resolved = file === ':memory:' ? `:memory:${(memoryCounter += 1)}` : path.resolve(file);
    this.wakeKey = `${resolved}\0${name}`;
    this.deadLetterKey = settings.deadLetterQueue && `${resolved}\0${settings.deadLetterQueue}`;
    this.visibilityMs = settings.visibilityTimeoutSeconds * 1000;
    this.insert = db.prepare(
      `INSERT INTO queue_message (queue, message_id, body, enqueued_at, visible_at) VALUES (?, ?, ?, ?, ?)`,
    );
    this.selectReady = db.prepare(
      `SELECT seq, message_id, body, enqueued_at, receive_count FROM queue_message
       WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?`,
    );
    this.markReceived = db.prepare(
      `UPDATE queue_message SET receive_count = receive_count + 1, visible_at = ?, receipt = ?, lease_owner = ?
       WHERE seq = ?`,
    );
    // The message keeps its id and enqueue time, as a message that MNS dead-letters does.
    this.moveToDeadLetter = db.prepare(
      `UPDATE queue_message SET queue = ?, receive_count = 0, visible_at = ?, receipt = NULL, lease_owner = NULL
       WHERE seq = ?`,
    );
    // A handle is valid only while the message is still invisible: once the visibility timeout
    // passed, the message may be received again by someone else.
    this.deleteByReceipt = db.prepare(
      `DELETE FROM queue_message WHERE seq = ? AND queue = ? AND receipt = ? AND visible_at > ?`,
    );
    this.changeByReceipt = db.prepare(
      `UPDATE queue_message SET visible_at = ?, receipt = ?
       WHERE seq = ? AND queue = ? AND receipt = ? AND visible_at > ?`,
    );
    this.receiveBatch = db.transaction((now: number, max: number) => this.takeVisible(now, max));
    this.releaseDeadLeases();
  }

  /**
   * Messages received by a process (or a queue) that is gone are made visible at once: nobody is
   * working on them, and waiting for their visibility timeout would leave their jobs idle for minutes.
   * Their old receipt handles stop working; the receive count is kept.
   */
  private releaseDeadLeases(): void {
    const release = this.db.transaction((now: number) => {
      const owners = this.db
        .prepare(
          `SELECT DISTINCT lease_owner AS owner FROM queue_message
           WHERE queue = ? AND visible_at > ? AND lease_owner IS NOT NULL`,
        )
        .all(this.name, now) as { owner: string }[];
      let released = 0;
      for (const { owner } of owners) {
        if (leaseOwnerAlive(owner)) continue;
        released += this.db
          .prepare(
            `UPDATE queue_message SET visible_at = ?, receipt = NULL, lease_owner = NULL
             WHERE queue = ? AND lease_owner = ? AND visible_at > ?`,
          )
          .run(now, this.name, owner, now).changes;
      }
      return released;
    });
    this.run('open', () => release.immediate(this.clock.now()));
  }

  private takeVisible(now: number, max: number): ReceivedMessage[] {
    const { deadLetterQueue, maxReceiveCount } = this.settings;
    const out: ReceivedMessage[] = [];
    let deadLettered = false;
    // Loops only while dead-lettering frees room in the batch; every row it sees leaves the
    // visible set (received or moved), so it ends.
    while (out.length < max) {
      const rows = this.selectReady.all(this.name, now, max - out.length) as Row[];
      if (rows.length === 0) break;
      for (const row of rows) {
        if (deadLetterQueue !== undefined && row.receive_count >= maxReceiveCount) {
          this.moveToDeadLetter.run(deadLetterQueue, now, row.seq);
          deadLettered = true;
          continue;
        }
        const token = newToken();
        this.markReceived.run(now + this.visibilityMs, token, this.owner, row.seq);
        out.push({
          messageId: row.message_id,
          body: row.body,
          receiptHandle: receiptOf(row.seq, token),
          receiveCount: row.receive_count + 1,
          enqueuedAt: row.enqueued_at,
        });
      }
    }
    if (deadLettered && this.deadLetterKey !== undefined) {
      const key = this.deadLetterKey;
      queueMicrotask(() => notifyQueue(key));
    }
    return out;
  }

  private ensureOpen(): void {
    if (this.closed) throw new QueueError(`queue ${this.name} is closed`);
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof QueueError) throw err;
      throw new QueueError(`${what} on queue ${this.name} failed: ${String(err)}`, { cause: err });
    }
  }

  async send(body: string, options?: SendOptions): Promise<{ messageId: string }> {
    this.ensureOpen();
    checkSend(body, options);
    const delayMs = (options?.delaySeconds ?? 0) * 1000;
    const now = this.clock.now();
    const messageId = ids.next('msg-');
    this.run('send', () => this.insert.run(this.name, messageId, body, now, now + delayMs));
    if (delayMs === 0) notifyQueue(this.wakeKey);
    return { messageId };
  }

  async receive(options?: ReceiveOptions): Promise<ReceivedMessage[]> {
    this.ensureOpen();
    const { max, waitSeconds } = checkReceive(options);
    // The wait is bounded by real time, not the injected clock, so a test clock that stands
    // still cannot make a long poll hang.
    const deadline = performance.now() + waitSeconds * 1000;
    for (;;) {
      // IMMEDIATE takes the write lock before reading, so consumers on other connections or
      // in other processes never select the same rows.
      const got = this.run('receive', () => this.receiveBatch.immediate(this.clock.now(), max));
      const left = deadline - performance.now();
      if (got.length > 0 || left <= 0) return got;
      await waitForQueue(this.wakeKey, Math.min(left, this.pollIntervalMs));
      if (this.closed) return [];
    }
  }

  async delete(receiptHandle: string): Promise<void> {
    this.ensureOpen();
    const { seq, token } = parseReceipt(receiptHandle);
    const changes = this.run(
      'delete',
      () => this.deleteByReceipt.run(seq, this.name, token, this.clock.now()).changes,
    );
    if (changes === 0) throw new QueueReceiptError();
  }

  async changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): Promise<string> {
    this.ensureOpen();
    checkVisibilityTimeout(visibilityTimeoutSeconds);
    const { seq, token } = parseReceipt(receiptHandle);
    const now = this.clock.now();
    const next = newToken();
    const changes = this.run(
      'changeVisibility',
      () =>
        this.changeByReceipt.run(now + visibilityTimeoutSeconds * 1000, next, seq, this.name, token, now)
          .changes,
    );
    if (changes === 0) throw new QueueReceiptError();
    return receiptOf(seq, next);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    endLeaseOwner(this.owner);
    notifyQueue(this.wakeKey);
    this.db.close();
  }
}
