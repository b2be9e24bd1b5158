import { nextAttempt, type Delivery, type DeliveryAttempt } from '../../domain/notifications.js';
import type { Deps } from '../deps.js';
import { encodeDeliveryMessage, type DeliveryMessage } from './delivery-message.js';
import { sendOnce } from './send.js';

export type DeliveryOutcome =
  | { kind: 'delivered'; deliveryId: string; status: number }
  | { kind: 'retrying'; deliveryId: string; retryAt: number; error: string }
  | { kind: 'dead'; deliveryId: string; reason: string }
  | { kind: 'ignored'; deliveryId: string; why: string };

/**
 * One attempt of one delivery, run by the worker from the delivery's queue message.
 *
 * Ordering for at-least-once: after a failed attempt the message of the next attempt is sent
 * *before* the attempt is recorded. A crash between the two leaves the old message unacknowledged;
 * it comes back, tries again (a repeat the receiver can recognise by `webhook-id`) and sends the
 * same next message, which collapses with the first by its attempt number. Recording first would
 * let a crash lose the retry.
 */
export async function handleDeliveryMessage(deps: Deps, message: DeliveryMessage): Promise<DeliveryOutcome> {
  const delivery = await deps.store.deliveries.get(message.deliveryId);
  if (!delivery) return { kind: 'ignored', deliveryId: message.deliveryId, why: 'unknown delivery' };
  if (delivery.status !== 'PENDING')
    return { kind: 'ignored', deliveryId: delivery.id, why: `delivery is ${delivery.status}` };
  if (message.attempt !== delivery.attempts.length) {
    return { kind: 'ignored', deliveryId: delivery.id, why: 'a later attempt has run' };
  }
  const now = deps.clock.now();
  if (delivery.nextAttemptAt !== null && delivery.nextAttemptAt > now + 1000) {
    // Early (a duplicate whose delay was cut short, or a clock step): wait for the due time.
    await deps.jobQueue.send(encodeDeliveryMessage(delivery.id, message.attempt), {
      delaySeconds: Math.ceil((delivery.nextAttemptAt - now) / 1000),
    });
    return { kind: 'ignored', deliveryId: delivery.id, why: 'not due yet' };
  }
  const subscription = await deps.store.subscriptions.get(delivery.subscriptionId);
  if (!subscription)
    return finish(deps, delivery, { status: 'DEAD', reason: 'the subscription was deleted' }, null);

  const body = JSON.stringify(delivery.event);
  const answer = await sendOnce(deps, subscription, delivery.id, body, now);
  const attempt: DeliveryAttempt = {
    at: now,
    status: answer.status,
    error: answer.ok ? null : (answer.error ?? 'failed'),
  };
  if (answer.ok) return finish(deps, delivery, { status: 'DELIVERED' }, attempt);

  const failures = delivery.attempts.length + 1;
  const next = nextAttempt(
    {
      firstRetrySeconds: deps.settings.NOTIFY_FIRST_RETRY_SECONDS,
      windowSeconds: deps.settings.NOTIFY_RETRY_WINDOW_SECONDS,
      maxDelaySeconds: deps.settings.NOTIFY_MAX_DELAY_SECONDS,
    },
    delivery.createdAt,
    failures,
    now,
  );
  if ('dead' in next) {
    return finish(
      deps,
      delivery,
      { status: 'DEAD', reason: `${next.dead}; last: ${attempt.error}` },
      attempt,
    );
  }
  await deps.jobQueue.send(encodeDeliveryMessage(delivery.id, failures), {
    delaySeconds: Math.ceil((next.retryAt - now) / 1000),
  });
  const saved = await deps.store.deliveries.update(
    { ...delivery, attempts: [...delivery.attempts, attempt], nextAttemptAt: next.retryAt, updatedAt: now },
    delivery.version,
  );
  if (!saved.ok) return { kind: 'ignored', deliveryId: delivery.id, why: 'another attempt recorded first' };
  deps.log.warn('notification failed; retrying', { deliveryId: delivery.id, error: attempt.error });
  return { kind: 'retrying', deliveryId: delivery.id, retryAt: next.retryAt, error: attempt.error ?? '' };
}

async function finish(
  deps: Deps,
  delivery: Delivery,
  end: { status: 'DELIVERED' } | { status: 'DEAD'; reason: string },
  attempt: DeliveryAttempt | null,
): Promise<DeliveryOutcome> {
  const now = deps.clock.now();
  const saved = await deps.store.deliveries.update(
    {
      ...delivery,
      status: end.status,
      attempts: attempt === null ? delivery.attempts : [...delivery.attempts, attempt],
      nextAttemptAt: null,
      deadReason: end.status === 'DEAD' ? end.reason : null,
      updatedAt: now,
    },
    delivery.version,
  );
  if (!saved.ok) return { kind: 'ignored', deliveryId: delivery.id, why: 'another attempt recorded first' };
  if (end.status === 'DEAD') {
    deps.log.error('notification dead-lettered', { deliveryId: delivery.id, reason: end.reason });
    return { kind: 'dead', deliveryId: delivery.id, reason: end.reason };
  }
  return { kind: 'delivered', deliveryId: delivery.id, status: attempt?.status ?? 0 };
}
