import type { z } from 'zod';
import type { Delivery, Subscription } from '../../domain/notifications.js';
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listDeliveries,
  listSubscriptions,
} from '../../usecases/notify/subscriptions.js';
import { API_PREFIX, created, ok, stripUndefined } from '../answers.js';
import { boundPage } from '../cursor.js';
import { unwrap } from '../outcomes.js';
import { defineRoute, type Route } from '../router.js';
import { listQuerySchema } from '../schemas/common.js';
import type { deliveryView } from '../schemas/subscriptions.js';
import {
  createdSubscriptionView,
  deliveryPage,
  deliveryQuerySchema,
  subscriptionBodySchema,
  subscriptionPage,
  subscriptionPathSchema,
  subscriptionView,
} from '../schemas/subscriptions.js';
import { toPageView } from '../views.js';

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** The secret is left out: it is shown once, in the answer to the creation. */
function toSubscriptionView(s: Subscription): z.output<typeof subscriptionView> {
  return {
    id: s.id,
    ...(s.target.kind === 'webhook' ? { url: s.target.url } : { mnsTopic: s.target.topic }),
    events: s.events,
    filter: s.filter,
    createdAt: new Date(s.createdAt).toISOString(),
    version: s.version,
  };
}

function toDeliveryView(d: Delivery): z.output<typeof deliveryView> {
  return {
    id: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts.map((a) => ({ at: new Date(a.at).toISOString(), status: a.status, error: a.error })),
    nextAttemptAt: iso(d.nextAttemptAt),
    deadReason: d.deadReason,
    event: { ...d.event },
    createdAt: new Date(d.createdAt).toISOString(),
  };
}

const base = `${API_PREFIX}/subscriptions`;

export const subscriptionRoutes: Route[] = [
  defineRoute({
    method: 'POST',
    path: base,
    operationId: 'createSubscription',
    summary: "Subscribe a webhook or an MNS topic to events; a webhook's signing secret is shown only here",
    tag: 'subscriptions',
    body: subscriptionBodySchema,
    bodyRequired: true,
    responses: { 201: { description: 'Subscribed', schema: createdSubscriptionView } },
    handle: async ({ body }, { deps }) => {
      const sub = unwrap(
        await createSubscription(deps, {
          ...(body.url === undefined ? {} : { url: body.url }),
          ...(body.mnsTopic === undefined ? {} : { mnsTopic: body.mnsTopic }),
          events: body.events,
          ...(body.filter === undefined ? {} : { filter: stripUndefined(body.filter) }),
        }),
      );
      return created({ ...toSubscriptionView(sub), secret: sub.secret }, `${base}/${sub.id}`);
    },
  }),
  defineRoute({
    method: 'GET',
    path: base,
    operationId: 'listSubscriptions',
    summary: 'Subscriptions, newest first',
    tag: 'subscriptions',
    query: listQuerySchema,
    responses: { 200: { description: 'One page', schema: subscriptionPage } },
    handle: async ({ query }, { deps }) => {
      const page = await boundPage(deps, 'subscriptions', query, (p) => listSubscriptions(deps, p));
      return ok(toPageView(page, toSubscriptionView));
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/{subscriptionId}`,
    operationId: 'getSubscription',
    summary: 'One subscription (without its secret)',
    tag: 'subscriptions',
    params: subscriptionPathSchema,
    responses: { 200: { description: 'The subscription', schema: subscriptionView } },
    problems: [404],
    handle: async ({ params }, { deps }) =>
      ok(toSubscriptionView(unwrap(await getSubscription(deps, params.subscriptionId)))),
  }),
  defineRoute({
    method: 'DELETE',
    path: `${base}/{subscriptionId}`,
    operationId: 'deleteSubscription',
    summary: 'Unsubscribe; pending deliveries end, their records stay',
    tag: 'subscriptions',
    params: subscriptionPathSchema,
    responses: { 200: { description: 'Deleted', schema: subscriptionPathSchema } },
    problems: [404],
    handle: async ({ params }, { deps }) => {
      const { id } = unwrap(await deleteSubscription(deps, params.subscriptionId));
      return ok({ subscriptionId: id });
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/{subscriptionId}/deliveries`,
    operationId: 'listDeliveries',
    summary: 'What was sent to a subscription: attempts, answers, dead-lettered deliveries; newest first',
    tag: 'subscriptions',
    params: subscriptionPathSchema,
    query: deliveryQuerySchema,
    responses: { 200: { description: 'One page', schema: deliveryPage } },
    problems: [404],
    handle: async ({ params, query }, { deps }) => {
      const page = await boundPage(deps, `deliveries:${params.subscriptionId}`, query, async (p) =>
        unwrap(await listDeliveries(deps, params.subscriptionId, p)),
      );
      return ok(toPageView(page, toDeliveryView));
    },
  }),
];
