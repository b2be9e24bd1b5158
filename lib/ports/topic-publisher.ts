/**
 * Publishing an event to a message topic a subscriber owns (MNS topics in the cloud). The topic
 * authenticates the publisher (RAM), so the message carries no signature of its own.
 */

export type PublishAnswer = { ok: true; messageId: string } | { ok: false; error: string };

export interface TopicPublisher {
  /** One attempt; a failure is an answer, not an exception. */
  publish(topic: string, body: string): Promise<PublishAnswer>;
}
