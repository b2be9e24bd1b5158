import { z } from 'zod';

/**
 * A notification's queue message. It travels on the job queue beside job messages (the worker tells
 * them apart by `deliveryId`). `attempt` is the number of attempts the delivery had when the message
 * was sent: a message whose number the delivery has moved past is a duplicate and is dropped.
 */
const deliveryMessageSchema = z.object({
  v: z.literal(1),
  deliveryId: z.string().min(1).max(256),
  attempt: z.number().int().nonnegative(),
});

export type DeliveryMessage = z.output<typeof deliveryMessageSchema>;

export function decodeDeliveryMessage(body: string): DeliveryMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return null;
  }
  const parsed = deliveryMessageSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export function encodeDeliveryMessage(deliveryId: string, attempt: number): string {
  return JSON.stringify({ v: 1, deliveryId, attempt });
}
