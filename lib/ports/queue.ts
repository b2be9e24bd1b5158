/**
 * At-least-once message queue with MNS semantics. Adapters: embedded (SQLite) and MNS.
 * A received message that is not deleted before its visibility timeout is delivered again.
 */

export const MAX_DELAY_SECONDS = 604_800;
export const MAX_BODY_BYTES = 65_536;
export const MAX_BATCH = 16;

export interface SendOptions {
  /** 0..604800; the message is invisible until then. */
  delaySeconds?: number;
}

export interface ReceiveOptions {
  /** 1..16, default 1. */
  max?: number;
  /** Long poll: wait up to this many seconds (0..30) for a message. Default 0. */
  waitSeconds?: number;
}

export interface ReceivedMessage {
  messageId: string;
  body: string;
  /** Valid until the message is deleted or becomes visible again. */
  receiptHandle: string;
  /** 1 on the first delivery. */
  receiveCount: number;
  enqueuedAt: number;
}

export interface Queue {
  readonly name: string;
  send(body: string, options?: SendOptions): Promise<{ messageId: string }>;
  receive(options?: ReceiveOptions): Promise<ReceivedMessage[]>;
  /** Deleting with a stale handle is a QueueReceiptError. */
  delete(receiptHandle: string): Promise<void>;
  /** Returns a new receipt handle; the old one stops working. */
  changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): Promise<string>;
  close(): Promise<void>;
}

export interface QueueSettings {
  /** Seconds a received message stays invisible. */
  visibilityTimeoutSeconds: number;
  /** After this many receives the message moves to the dead-letter queue instead of being delivered. */
  maxReceiveCount: number;
  /** Name of the dead-letter queue; absent = none. */
  deadLetterQueue?: string;
}

export class QueueError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueueError';
  }
}

export class QueueReceiptError extends QueueError {
  constructor(message = 'receipt handle is stale or unknown', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueueReceiptError';
  }
}
