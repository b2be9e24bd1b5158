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

/** MNS bounds, shared by every adapter so they refuse the same inputs with the same words. */
export const MAX_WAIT_SECONDS = 30;
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;

function isIntegerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** Throws QueueError unless the message may be sent; returns the body's size in UTF-8 bytes. */
export function checkSend(body: string, options?: SendOptions): number {
  if (typeof body !== 'string' || body.length === 0)
    throw new QueueError('message body must be a non-empty string');
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_BODY_BYTES) {
    throw new QueueError(`message body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES} bytes`);
  }
  const delay = options?.delaySeconds ?? 0;
  if (!isIntegerIn(delay, 0, MAX_DELAY_SECONDS)) {
    throw new QueueError(`delaySeconds must be an integer from 0 to ${MAX_DELAY_SECONDS}, got ${delay}`);
  }
  return bytes;
}

/** Throws QueueError unless the receive options are in range; returns them with defaults applied. */
export function checkReceive(options?: ReceiveOptions): { max: number; waitSeconds: number } {
  const max = options?.max ?? 1;
  const waitSeconds = options?.waitSeconds ?? 0;
  if (!isIntegerIn(max, 1, MAX_BATCH))
    throw new QueueError(`max must be an integer from 1 to ${MAX_BATCH}, got ${max}`);
  if (!isIntegerIn(waitSeconds, 0, MAX_WAIT_SECONDS)) {
    throw new QueueError(`waitSeconds must be an integer from 0 to ${MAX_WAIT_SECONDS}, got ${waitSeconds}`);
  }
  return { max, waitSeconds };
}

/** Throws QueueError unless the visibility timeout is one MNS accepts (1..43200 s). */
export function checkVisibilityTimeout(seconds: number): number {
  if (!isIntegerIn(seconds, 1, MAX_VISIBILITY_TIMEOUT_SECONDS)) {
    throw new QueueError(
      `visibility timeout must be an integer from 1 to ${MAX_VISIBILITY_TIMEOUT_SECONDS} seconds, got ${seconds}`,
    );
  }
  return seconds;
}

/** Throws QueueError unless the settings are usable by every adapter. */
export function checkSettings(name: string, settings: QueueSettings): void {
  // MNS queue names: letters, digits and hyphens, starting with a letter or digit, at most 120 characters.
  for (const n of [name, settings.deadLetterQueue]) {
    if (n !== undefined && !/^[A-Za-z0-9][A-Za-z0-9-]{0,119}$/.test(n))
      throw new QueueError(`invalid queue name ${JSON.stringify(n)}`);
  }
  checkVisibilityTimeout(settings.visibilityTimeoutSeconds);
  if (!Number.isInteger(settings.maxReceiveCount) || settings.maxReceiveCount < 1) {
    throw new QueueError(`maxReceiveCount must be a positive integer, got ${settings.maxReceiveCount}`);
  }
  if (settings.deadLetterQueue !== undefined && settings.deadLetterQueue === name) {
    throw new QueueError(`queue ${name} cannot be its own dead-letter queue`);
  }
}
