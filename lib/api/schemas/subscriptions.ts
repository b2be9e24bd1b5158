import { z } from 'zod';
import { EVENT_TYPES, MNS_TOPIC_PATTERN } from '../../domain/notifications.js';
import { instanceIdSchema } from '../../domain/plan.js';
import { isoTime, named, nullableIsoTime, opaqueId, pageOf, paging } from './common.js';

const eventType = z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` });

export const subscriptionBodySchema = named(
  z
    .strictObject({
      url: z.string().min(1).max(2048).optional().describe('Webhook receiver (https in the cloud)'),
      mnsTopic: z
        .string()
        .regex(MNS_TOPIC_PATTERN, {
          error: 'must be an MNS topic name: a letter, then letters, digits and hyphens (at most 256)',
        })
        .optional()
        .describe('MNS topic of this account to publish to, instead of a url'),
      events: z
        .array(eventType)
        .min(1, 'must name at least one event type')
        .max(EVENT_TYPES.length * 2),
      filter: z
        .strictObject({ instanceId: instanceIdSchema.optional(), planId: opaqueId.optional() })
        .optional(),
    })
    .superRefine((body, ctx) => {
      if ((body.url === undefined) === (body.mnsTopic === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [body.url === undefined ? 'url' : 'mnsTopic'],
          message: 'give exactly one of url (a webhook) and mnsTopic (an MNS topic)',
        });
      }
    }),
  'SubscriptionRequest',
);

export const subscriptionPathSchema = z.strictObject({ subscriptionId: opaqueId });
export const deliveryQuerySchema = z.strictObject({ ...paging });

export const subscriptionView = named(
  z.object({
    id: z.string(),
    url: z.string().optional(),
    mnsTopic: z.string().optional(),
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
