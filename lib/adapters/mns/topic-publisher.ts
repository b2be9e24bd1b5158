import type { PublishAnswer, TopicPublisher } from '../../ports/topic-publisher.js';
import { rotatingMnsClient, type MnsCredentials } from './client.js';
import { mnsErrorCode } from './errors.js';

/**
 * PublishMessage through the official MNS SDK. The SDK puts the body into XML without escaping it
 * (reference: alibaba-cloud.md), so the body is sent base64-encoded; a subscriber decodes it to the
 * CloudEvent JSON. A topic subscription to a queue in SIMPLIFIED format hands the queue exactly
 * this base64 text.
 */
export function createMnsTopicPublisher(options: {
  endpoint: string;
  accountId?: string;
  credentials: () => MnsCredentials;
}): TopicPublisher {
  const client = rotatingMnsClient(
    {
      endpoint: options.endpoint,
      ...(options.accountId === undefined ? {} : { accountId: options.accountId }),
    },
    options.credentials,
  );
  return {
    async publish(topic, body): Promise<PublishAnswer> {
      try {
        const res = await client().publishMessage(topic, {
          MessageBody: Buffer.from(body, 'utf8').toString('base64'),
        });
        if (res.code >= 300) return { ok: false, error: `MNS PublishMessage answered HTTP ${res.code}` };
        return { ok: true, messageId: res.body.MessageId };
      } catch (err) {
        const code = mnsErrorCode(err);
        const detail = err instanceof Error ? err.message : String(err);
        return {
          ok: false,
          error: `MNS PublishMessage to topic ${topic} failed: ${code ?? 'error'}: ${detail}`,
        };
      }
    },
  };
}
