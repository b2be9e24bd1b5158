import { createHash } from 'node:crypto';
import type { Job } from '../../domain/model.js';
import {
  subscriptionMatches,
  toCloudEvent,
  type Delivery,
  type ProductEvent,
  type Subscription,
} from '../../domain/notifications.js';
import type { Deps } from '../deps.js';
import { encodeDeliveryMessage } from './delivery-message.js';

/** Subscriptions read per page; a deployment has a handful. */
const SUBSCRIPTION_PAGE = 200;

function deliveryId(subscriptionId: string, eventId: string): string {
  return `dl-${createHash('sha256').update(`${subscriptionId}\n${eventId}`).digest('hex').slice(0, 32)}`;
}

export async function allSubscriptions(deps: Deps): Promise<Subscription[]> {
  const out: Subscription[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.subscriptions.list({
      limit: SUBSCRIPTION_PAGE,
      order: 'asc',
      ...(cursor ? { cursor } : {}),
    });
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return out;
}

/**
 * Addresses an event to every subscription that asked for it: one delivery record per subscriber,
 * created if absent, and a queue message that carries it; the sending happens in the worker, never
 * here. Raising the same event again (a redelivered message, a retried sweep) finds the same
 * deliveries, and re-sends the message of one never tried, in case a crash came between the
 * record and the message. Returns the deliveries created or found.
 */
export async function raiseEvent(
  deps: Deps,
  event: ProductEvent,
  subscriptions?: Subscription[],
): Promise<Delivery[]> {
  const subscribers = (subscriptions ?? (await allSubscriptions(deps))).filter((s) =>
    subscriptionMatches(s, event),
  );
  const now = deps.clock.now();
  const cloudEvent = toCloudEvent(event);
  const out: Delivery[] = [];
  for (const sub of subscribers) {
    const delivery: Delivery = {
      id: deliveryId(sub.id, event.id),
      subscriptionId: sub.id,
      eventId: event.id,
      eventType: event.type,
      event: cloudEvent,
      status: 'PENDING',
      attempts: [],
      nextAttemptAt: now,
      deadReason: null,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    const written = await deps.store.deliveries.create(delivery);
    const stored = written.ok ? written.value : written.current;
    if (stored === undefined) continue;
    out.push(stored);
    if (stored.status === 'PENDING' && stored.attempts.length === 0) {
      await deps.jobQueue.send(encodeDeliveryMessage(stored.id, 0));
    }
  }
  return out;
}

/** The event a finished job raises, if any: a failure, or a completion (full or partial). */
export function jobEvent(job: Job): ProductEvent | null {
  const type =
    job.status === 'FAILED'
      ? 'job.failed'
      : job.status === 'COMPLETE' || job.status === 'PARTIAL_COMPLETE'
        ? 'job.completed'
        : null;
  if (type === null) return null;
  return {
    id: `${job.id}/${job.status}`,
    type,
    at: job.finishedAt ?? job.updatedAt,
    scope: { instanceId: job.instanceId, planId: job.planId },
    subject: job.id,
    data: {
      jobId: job.id,
      jobType: job.type,
      status: job.status,
      instanceId: job.instanceId,
      planId: job.planId,
      backupId: typeof job.state.pointId === 'string' ? job.state.pointId : null,
      reason: job.reason,
    },
  };
}

/** Raises a finished job's event; a failure to raise is logged and left to the redelivery of the job's message. */
export async function raiseJobEvent(deps: Deps, job: Job): Promise<void> {
  const event = jobEvent(job);
  if (event !== null) await raiseEvent(deps, event);
}
