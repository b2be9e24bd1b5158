import { z } from 'zod';

/**
 * The job message body. `{"v":1,"jobId":...}` is what the API and the scheduler send. The worker
 * adds `seq` (the job version it expects, so a duplicate of an old message is recognised and dropped
 * instead of starting a second chain of polls) and `attempt` (deliveries that failed, carried across
 * re-sends because a re-sent message starts with a fresh receive count).
 */
export const jobMessageSchema = z.object({
  v: z.literal(1),
  jobId: z.string().min(1).max(256),
  seq: z.number().int().positive().optional(),
  attempt: z.number().int().nonnegative().optional(),
});

export type JobMessageBody = z.output<typeof jobMessageSchema>;

export function decodeJobMessage(body: string): JobMessageBody | null {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return null;
  }
  const parsed = jobMessageSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export function encodeJobMessageBody(message: JobMessageBody): string {
  const out: JobMessageBody = { v: 1, jobId: message.jobId };
  if (message.seq !== undefined) out.seq = message.seq;
  if (message.attempt !== undefined && message.attempt > 0) out.attempt = message.attempt;
  return JSON.stringify(out);
}

/** The first message of a job, as the API and the scheduler send it. */
export function encodeJobMessage(jobId: string): string {
  return encodeJobMessageBody({ v: 1, jobId });
}
