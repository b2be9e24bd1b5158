import { z } from 'zod';
import { EVENT_TYPES } from '../../domain/notifications.js';
import { instanceIdSchema } from '../../domain/plan.js';
import { isoTime, named, nullableIsoTime, opaqueId, pageOf, paging } from './common.js';

const eventType = z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` });

export const subscriptionBodySchema = named(
  z.strictObject({
    url: z.string().min(1).max(2048).describe('Webhook receiver (https in the cloud)'),
    events: z
      .array(eventType)
      .min(1, 'must name at least one event type')
      .max(EVENT_TYPES.length * 2),
    filter: z
      .strictObject({ instanceId: instanceIdSchema.optional(), planId: opaqueId.optional() })
      .optional(),
  }),
  'SubscriptionRequest',
);

export const subscriptionPathSchema = z.strictObject({ subscriptionId: opaqueId });
export const deliveryQuerySchema = z.strictObject({ ...paging });

export const subscriptionView = named(
  z.object({
    id: z.string(),
    url: z.string(),
    events: z.array(eventType),
    filter: z.object({ instanceId: z.string().optional(), planId: z.string().optional() }),
    createdAt: isoTime,
    version: z.int(),
  }),
  'Subscription',
);

export const createdSubscriptionView = named(
  subscriptionView.extend({
    secret: z.string().describe('whsec_<base64>: the key receivers verify signatures with; shown only now'),
  }),
  'CreatedSubscription',
);

export const subscriptionPage = pageOf(subscriptionView, 'SubscriptionPage');

export const deliveryView = named(
  z.object({
    id: z.string().describe('Also the webhook-id header of every attempt'),
    eventId: z.string(),
    eventType: eventType,
    status: z.enum(['PENDING', 'DELIVERED', 'DEAD']),
    attempts: z.array(z.object({ at: isoTime, status: z.int().nullable(), error: z.string().nullable() })),
    nextAttemptAt: nullableIsoTime,
    deadReason: z.string().nullable(),
    event: z.record(z.string(), z.unknown()),
    createdAt: isoTime,
  }),
  'Delivery',
);

export const deliveryPage = pageOf(deliveryView, 'DeliveryPage');
