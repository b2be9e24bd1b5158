import { createHash, randomBytes } from 'node:crypto';

/** MNS queue attributes with their documented ranges and defaults. */
export interface QueueAttributes {
  DelaySeconds: number;
  MaximumMessageSize: number;
  MessageRetentionPeriod: number;
  VisibilityTimeout: number;
  PollingWaitSeconds: number;
  LoggingEnabled: boolean;
}

export const ATTRIBUTE_RANGES: Record<Exclude<keyof QueueAttributes, 'LoggingEnabled'>, [number, number]> = {
  DelaySeconds: [0, 604_800],
  MaximumMessageSize: [1024, 65_536],
  MessageRetentionPeriod: [60, 604_800],
  VisibilityTimeout: [1, 43_200],
  PollingWaitSeconds: [0, 30],
};

export const DEFAULT_ATTRIBUTES: QueueAttributes = {
  DelaySeconds: 0,
  MaximumMessageSize: 65_536,
  MessageRetentionPeriod: 345_600,
  VisibilityTimeout: 30,
  PollingWaitSeconds: 0,
  LoggingEnabled: false,
};

/** The dead-letter policy as the MNS OpenAPI (2022-01-19) names it. */
export interface DlqPolicy {
  Enabled: boolean;
  DeadLetterTargetQueue: string;
  MaxReceiveCount: number;
}

export interface StoredMessage {
  seq: number;
  id: string;
  body: string;
  md5: string;
  priority: number;
  enqueueTime: number;
  firstDequeueTime: number | undefined;
  nextVisibleTime: number;
  dequeueCount: number;
  receipt: string | undefined;
}

/** An MNS error: the code MNS answers, its HTTP status and a message. */
export class MnsFault extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'MnsFault';
  }
}

let seqCounter = 0;

export class EmulatedQueue {
  readonly createTime: number;
  lastModifyTime: number;
  dlq: DlqPolicy | undefined;
  readonly messages = new Map<number, StoredMessage>();
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    public attributes: QueueAttributes,
    now: number,
  ) {
    this.createTime = now;
    this.lastModifyTime = now;
  }

  add(body: string, delaySeconds: number, priority: number, now: number, id?: string): StoredMessage {
    seqCounter += 1;
    const message: StoredMessage = {
      seq: seqCounter,
      id: id ?? randomBytes(16).toString('hex').toUpperCase(),
      body,
      md5: createHash('md5').update(body, 'utf8').digest('hex').toUpperCase(),
      priority,
      enqueueTime: now,
      firstDequeueTime: undefined,
      nextVisibleTime: now + delaySeconds * 1000,
      dequeueCount: 0,
      receipt: undefined,
    };
    this.messages.set(message.seq, message);
    if (delaySeconds === 0) this.wake();
    return message;
  }

  /** Drops messages past the retention period, as MNS does regardless of their state. */
  expire(now: number): void {
    const limit = this.attributes.MessageRetentionPeriod * 1000;
    for (const m of this.messages.values()) if (now - m.enqueueTime >= limit) this.messages.delete(m.seq);
  }

  visible(now: number): StoredMessage[] {
    this.expire(now);
    return [...this.messages.values()]
      .filter((m) => m.nextVisibleTime <= now)
      .sort((a, b) => a.priority - b.priority || a.seq - b.seq);
  }

  counts(now: number): { active: number; inactive: number; delayed: number } {
    let active = 0;
    let inactive = 0;
    let delayed = 0;
    for (const m of this.messages.values()) {
      if (m.nextVisibleTime <= now) active += 1;
      else if (m.dequeueCount > 0) inactive += 1;
      else delayed += 1;
    }
    return { active, inactive, delayed };
  }

  /** Handles carry the sequence number so a stale one can be told from a foreign one. */
  issueReceipt(message: StoredMessage, visibleAt: number): string {
    message.receipt = `${message.seq.toString(36)}-${randomBytes(12).toString('hex')}`;
    message.nextVisibleTime = visibleAt;
    return message.receipt;
  }

  /** The message a receipt handle currently owns, or an MNS fault. */
  byReceipt(handle: string, now: number): StoredMessage {
    const seq = parseInt(handle.split('-')[0] ?? '', 36);
    if (!/^[0-9a-z]+-[0-9a-f]{24}$/.test(handle) || !Number.isSafeInteger(seq)) {
      throw new MnsFault('ReceiptHandleError', 400, 'The receipt handle you provide is not valid.');
    }
    const m = this.messages.get(seq);
    if (m !== undefined && m.receipt === handle && m.nextVisibleTime > now) return m;
    throw new MnsFault('MessageNotExist', 404, 'Message not exist or the receipt handle has expired.');
  }

  waitForMessage(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, ms));
      this.waiters.add(wake);
    });
  }

  wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
