import type MnsClient from '@alicloud/mns';
import {
  checkReceive,
  checkSend,
  checkSettings,
  checkVisibilityTimeout,
  MAX_BODY_BYTES,
  QueueError,
  QueueReceiptError,
  type Queue,
  type QueueSettings,
  type ReceivedMessage,
  type ReceiveOptions,
  type SendOptions,
} from '../../ports/queue.js';
import type { MnsConnection, MnsCredentials } from './client.js';
import { decodeMnsBody, encodeMnsBody } from './codec.js';
import { expectSuccess, mnsErrorCode, translateMnsError } from './errors.js';

export { decodeMnsBody, encodeMnsBody } from './codec.js';
export type { MnsConnection, MnsCredentials } from './client.js';

export type MnsQueueOptions = (
  | MnsConnection
  | (Omit<MnsConnection, 'accessKeyId' | 'accessKeySecret' | 'securityToken'> & {
      /** Read on every call (rotating STS credentials); takes the place of fixed keys. */
      credentials: () => MnsCredentials;
    })
) & {
  name: string;
  /**
   * Must match the queue as provisioned (`lib/schema/queues.ts`): MNS applies the visibility timeout
   * and the dead-letter policy server-side. The adapter dead-letters by itself only when it
   * sees a message received more often than `maxReceiveCount` (a queue without the policy).
   */
  settings: QueueSettings;
  /** The queue's MaximumMessageSize (bytes of the encoded body); default 65536. */
  maxMessageBytes?: number;
};

/**
 * A `Queue` on Alibaba Cloud MNS through the official `@alicloud/mns` SDK. The SDK (with its XML
 * and HTTP packages) is imported on the first call, not at a function's cold start: an API read,
 * a scheduler tick with nothing due or a retention run sends nothing.
 */
export function createMnsQueue(options: MnsQueueOptions): Queue {
  checkSettings(options.name, options.settings);
  let client: Promise<() => MnsClient> | undefined;
  const load = async (): Promise<() => MnsClient> => {
    const { newMnsClient, rotatingMnsClient } = await import('./client.js');
    if ('credentials' in options) return rotatingMnsClient(options, options.credentials);
    const fixed = newMnsClient(options);
    return () => fixed;
  };
  const clientNow = async (): Promise<MnsClient> => {
    // A failed load is not kept: the next call tries again.
    client ??= load().catch((err: unknown) => {
      client = undefined;
      throw err;
    });
    return (await client)();
  };
  return new MnsQueue(clientNow, options.name, options.settings, options.maxMessageBytes);
}

// Handles go into the query string unescaped by the SDK; anything that could end the
// parameter cannot be a handle MNS issued.
const SAFE_HANDLE = /^[^\s&#?]+$/;

class MnsQueue implements Queue {
  private closed = false;

  constructor(
    private readonly client: () => Promise<MnsClient>,
    readonly name: string,
    private readonly settings: QueueSettings,
    private readonly maxMessageBytes: number = MAX_BODY_BYTES,
  ) {}

  private ensureOpen(): void {
    if (this.closed) throw new QueueError(`queue ${this.name} is closed`);
  }

  async send(body: string, options?: SendOptions): Promise<{ messageId: string }> {
    this.ensureOpen();
    checkSend(body, options);
    const MessageBody = encodeMnsBody(body, this.maxMessageBytes);
    try {
      const client = await this.client();
      const res = await client.sendMessage(this.name, {
        MessageBody,
        DelaySeconds: options?.delaySeconds ?? 0,
      });
      expectSuccess(res, 'SendMessage', this.name);
      return { messageId: res.body.MessageId };
    } catch (err) {
      throw translateMnsError(err, 'SendMessage', this.name);
    }
  }

  async receive(options?: ReceiveOptions): Promise<ReceivedMessage[]> {
    this.ensureOpen();
    const { max, waitSeconds } = checkReceive(options);
    const messages = await this.fetch(max, waitSeconds);
    const out: ReceivedMessage[] = [];
    for (const m of messages) {
      const receiveCount = Number(m.DequeueCount);
      const handle = m.ReceiptHandle ?? '';
      if (this.settings.deadLetterQueue !== undefined && receiveCount > this.settings.maxReceiveCount) {
        await this.deadLetter(m.MessageBody, handle);
        continue;
      }
      out.push({
        messageId: m.MessageId,
        body: decodeMnsBody(m.MessageBody),
        receiptHandle: handle,
        receiveCount,
        enqueuedAt: Number(m.EnqueueTime),
      });
    }
    return out;
  }

  /**
   * Always sends `waitseconds`, even 0: the SDK drops a zero, and MNS then long-polls for the
   * queue's PollingWaitSeconds, which would turn a non-blocking receive into a blocking one.
   */
  private async fetch(max: number, waitSeconds: number): Promise<MnsClient.MnsMessage[]> {
    const timeouts = { readTimeout: (waitSeconds + 10) * 1000, connectTimeout: (waitSeconds + 10) * 1000 };
    const path = `/queues/${this.name}/messages`;
    try {
      const client = await this.client();
      if (max === 1) {
        const res = await client.get<MnsClient.MnsMessage | undefined>(
          `${path}?waitseconds=${waitSeconds}`,
          'Message',
          timeouts,
        );
        expectSuccess(res, 'ReceiveMessage', this.name);
        return res.body === undefined ? [] : [res.body];
      }
      const res = await client.get<{ Message?: MnsClient.MnsMessage[] } | undefined>(
        `${path}?numOfMessages=${max}&waitseconds=${waitSeconds}`,
        'Messages',
        timeouts,
      );
      expectSuccess(res, 'BatchReceiveMessage', this.name);
      return res.body?.Message ?? [];
    } catch (err) {
      // MNS answers an empty (long) poll with this error rather than an empty list.
      if (mnsErrorCode(err) === 'MessageNotExist') return [];
      throw translateMnsError(err, 'ReceiveMessage', this.name);
    }
  }

  /** Fallback for a queue without a server-side dead-letter policy: copy, then delete. */
  private async deadLetter(encodedBody: string, receiptHandle: string): Promise<void> {
    const target = this.settings.deadLetterQueue as string;
    try {
      const client = await this.client();
      const res = await client.sendMessage(target, { MessageBody: encodedBody });
      expectSuccess(res, 'SendMessage', target);
    } catch (err) {
      throw translateMnsError(err, 'SendMessage (dead-letter)', target);
    }
    try {
      await this.delete(receiptHandle);
    } catch (err) {
      // Someone else holds the message now; it will be dead-lettered again (at-least-once).
      if (!(err instanceof QueueReceiptError)) throw err;
    }
  }

  async delete(receiptHandle: string): Promise<void> {
    this.ensureOpen();
    if (typeof receiptHandle !== 'string' || !SAFE_HANDLE.test(receiptHandle)) throw new QueueReceiptError();
    try {
      const client = await this.client();
      const res = await client.deleteMessage(this.name, receiptHandle);
      expectSuccess(res, 'DeleteMessage', this.name);
    } catch (err) {
      throw translateMnsError(err, 'DeleteMessage', this.name, { receipt: true });
    }
  }

  async changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): Promise<string> {
    this.ensureOpen();
    checkVisibilityTimeout(visibilityTimeoutSeconds);
    if (typeof receiptHandle !== 'string' || !SAFE_HANDLE.test(receiptHandle)) throw new QueueReceiptError();
    try {
      const client = await this.client();
      const res = await client.changeMessageVisibility(this.name, receiptHandle, visibilityTimeoutSeconds);
      expectSuccess(res, 'ChangeMessageVisibility', this.name);
      return res.body.ReceiptHandle;
    } catch (err) {
      throw translateMnsError(err, 'ChangeMessageVisibility', this.name, { receipt: true });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
