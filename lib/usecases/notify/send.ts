import type { Subscription } from '../../domain/notifications.js';
import type { Deps } from '../deps.js';
import { webhookHeaders } from './signing.js';

export interface SendAnswer {
  ok: boolean;
  /** The receiver's HTTP status, for a webhook that answered. */
  status: number | null;
  error?: string;
}

/**
 * One attempt of one delivery to its subscription's target: a signed webhook POST, or a message
 * published to an MNS topic. Both answer the same way, so retries, backoff and dead-lettering are
 * the same for both (`deliver.ts`).
 */
export async function sendOnce(
  deps: Deps,
  subscription: Subscription,
  deliveryId: string,
  body: string,
  now: number,
): Promise<SendAnswer> {
  const target = subscription.target;
  if (target.kind === 'mns-topic') {
    if (!deps.topics) return { ok: false, status: null, error: 'this function has no MNS topic client' };
    const published = await deps.topics.publish(target.topic, body);
    return published.ok ? { ok: true, status: null } : { ok: false, status: null, error: published.error };
  }
  if (!deps.notifier) return { ok: false, status: null, error: 'this function has no webhook client' };
  const timestamp = Math.floor(now / 1000);
  const answer = await deps.notifier.postWebhook({
    url: target.url,
    headers: webhookHeaders(subscription.secret, deliveryId, timestamp, body),
    body,
    timeoutMs: deps.settings.WEBHOOK_TIMEOUT_SECONDS * 1000,
    allowPrivate: deps.settings.WEBHOOK_ALLOW_PRIVATE === 'true',
  });
  return answer.ok
    ? { ok: true, status: answer.status }
    : { ok: false, status: answer.status, error: answer.error };
}
