import { z } from 'zod';

/** FC timer trigger: `{"triggerTime":"2026-02-09T05:49:00Z","triggerName":"...","payload":"..."}`. */
export const timerEventSchema = z.object({
  triggerTime: z.string().min(1),
  triggerName: z.string().min(1),
  payload: z.string().optional(),
});

export type TimerEvent = z.output<typeof timerEventSchema>;

/**
 * MNS queue trigger through EventBridge: a CloudEvent whose `data` holds the message. Fields beyond
 * the ones we read are kept (`loose`), so a richer event from a newer trigger still validates.
 */
export const mnsCloudEventSchema = z.looseObject({
  id: z.string().min(1),
  source: z.string().optional(),
  specversion: z.string().optional(),
  type: z.string().min(1),
  time: z.string().optional(),
  data: z.looseObject({
    requestId: z.string().optional(),
    messageId: z.string().min(1),
    messageBody: z.string(),
    /** MNS's DequeueCount when the trigger passes it; 1 otherwise. */
    dequeueCount: z.coerce.number().int().positive().optional(),
  }),
});

export type MnsCloudEvent = z.output<typeof mnsCloudEventSchema>;

/** Single mode sends one CloudEvent; batch mode an array of them. */
export const mnsTriggerEventSchema = z.union([mnsCloudEventSchema, z.array(mnsCloudEventSchema).min(1)]);
