import {
  checkWebhookUrl,
  isPrivateAddress,
  type EventType,
  type Subscription,
} from '../../domain/notifications.js';
import type { Delivery } from '../../domain/notifications.js';
import type { Page, PageRequest } from '../../ports/store.js';
import type { Deps } from '../deps.js';
import { invalid, notFound, ok, type Outcome } from '../management/outcome.js';
import { newWebhookSecret } from './signing.js';

export interface SubscriptionRequest {
  /** Exactly one of `url` (a webhook) and `mnsTopic` (an MNS topic of this deployment's account). */
  url?: string;
  mnsTopic?: string;
  events: EventType[];
  filter?: { instanceId?: string; planId?: string };
}

/**
 * The Function Compute deployment stores in Tablestore; there webhooks must use https. The local
 * cloud (SQLite) also accepts http, for a receiver on the same machine.
 */
function requiresHttps(deps: Deps): boolean {
  return deps.settings.STORE === 'tablestore';
}

/**
 * Checks a webhook URL as far as it can before anything is stored: its form, then (for a host name)
 * every address it resolves to now. Delivery checks the addresses again, since DNS may change.
 */
async function checkUrl(deps: Deps, url: string): Promise<string | null> {
  const allowPrivate = deps.settings.WEBHOOK_ALLOW_PRIVATE === 'true';
  const problem = checkWebhookUrl(url, { requireHttps: requiresHttps(deps), allowPrivate });
  if (problem !== null || allowPrivate || !deps.notifier) return problem;
  const host = new URL(url).hostname;
  let addresses: string[];
  try {
    addresses = await deps.notifier.resolve(host);
  } catch {
    return `host ${host} does not resolve`;
  }
  const bad = addresses.find(isPrivateAddress);
  return bad === undefined
    ? null
    : `${host} resolves to a private, loopback or link-local address (${bad}); set WEBHOOK_ALLOW_PRIVATE=true to allow it`;
}

/** A new subscription; the answer carries its signing secret, which is never shown again. */
export async function createSubscription(
  deps: Deps,
  request: SubscriptionRequest,
): Promise<Outcome<Subscription>> {
  let target: Subscription['target'];
  if (request.mnsTopic !== undefined) {
    // The API function checks this too: topics are published through the deployment's own MNS.
    if (!deps.settings.MNS_ENDPOINT) {
      return invalid([
        {
          path: 'mnsTopic',
          message: 'topic delivery needs an MNS endpoint (MNS_ENDPOINT); none is configured',
        },
      ]);
    }
    target = { kind: 'mns-topic', topic: request.mnsTopic };
  } else {
    const url = request.url ?? '';
    const problem = await checkUrl(deps, url);
    if (problem !== null) return invalid([{ path: 'url', message: problem }]);
    target = { kind: 'webhook', url };
  }
  const now = deps.clock.now();
  const subscription: Subscription = {
    id: deps.ids.next('sub-'),
    target,
    events: [...new Set(request.events)],
    filter: request.filter ?? {},
    secret: newWebhookSecret(),
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  const created = await deps.store.subscriptions.create(subscription);
  if (!created.ok) throw new Error(`subscription id ${subscription.id} already taken`);
  return ok(created.value);
}

export async function getSubscription(deps: Deps, id: string): Promise<Outcome<Subscription>> {
  const found = await deps.store.subscriptions.get(id);
  return found === undefined ? notFound('subscription', id) : ok(found);
}

export function listSubscriptions(deps: Deps, page: PageRequest): Promise<Page<Subscription>> {
  return deps.store.subscriptions.list(page);
}

/** Deleting a subscription stops its pending deliveries (each ends DEAD at its next attempt); records stay. */
export async function deleteSubscription(deps: Deps, id: string): Promise<Outcome<{ id: string }>> {
  const removed = await deps.store.subscriptions.delete(id);
  return removed.ok ? ok({ id }) : notFound('subscription', id);
}

export async function listDeliveries(
  deps: Deps,
  id: string,
  page: PageRequest,
): Promise<Outcome<Page<Delivery>>> {
  const found = await deps.store.subscriptions.get(id);
  if (found === undefined) return notFound('subscription', id);
  return ok(await deps.store.deliveries.list(id, page));
}
