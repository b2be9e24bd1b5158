import { MAX_BODY_BYTES, type QueueSettings } from '../ports/queue.js';

/** One queue as provisioned on MNS; the embedded queue reads the same numbers. */
export interface QueueDefinition {
  name: string;
  visibilityTimeoutSeconds: number;
  /** Bytes of the encoded (base64) body MNS accepts. */
  maximumMessageSize: number;
  /** Long-poll wait MNS applies to receives that do not say `waitseconds`. */
  pollingWaitSeconds: number;
  messageRetentionSeconds: number;
  deadLetter?: { queue: string; maxReceiveCount: number };
}

export const JOBS_QUEUE = 'ecs-backup-jobs';
export const JOBS_DEAD_LETTER_QUEUE = 'ecs-backup-jobs-dlq';

/** Dead-letter queues come before the queues that name them: MNS checks the target exists. */
export const QUEUES: readonly QueueDefinition[] = [
  {
    name: JOBS_DEAD_LETTER_QUEUE,
    visibilityTimeoutSeconds: 60,
    maximumMessageSize: MAX_BODY_BYTES,
    pollingWaitSeconds: 10,
    messageRetentionSeconds: 604_800,
  },
  {
    name: JOBS_QUEUE,
    // Longer than one worker step (one FC invocation) takes, so a slow step is not run twice at
    // once; short enough that a crashed step is retried within minutes.
    visibilityTimeoutSeconds: 300,
    maximumMessageSize: MAX_BODY_BYTES,
    pollingWaitSeconds: 10,
    // The maximum: job messages may be delayed until their scheduled time.
    messageRetentionSeconds: 604_800,
    // Five failed attempts (about 25 minutes) make a message poison; the job is then marked FAILED.
    deadLetter: { queue: JOBS_DEAD_LETTER_QUEUE, maxReceiveCount: 5 },
  },
];

/** MNS's upper bound for MaxReceiveCount; without a dead-letter queue the count changes nothing. */
const NO_DEAD_LETTER_RECEIVE_COUNT = 1000;

/** The port settings of a defined queue, for either adapter. */
export function queueSettings(name: string, queues: readonly QueueDefinition[] = QUEUES): QueueSettings {
  const def = queues.find((q) => q.name === name);
  if (def === undefined) throw new Error(`queue ${name} is not defined in lib/schema/queues.ts`);
  return {
    visibilityTimeoutSeconds: def.visibilityTimeoutSeconds,
    maxReceiveCount: def.deadLetter?.maxReceiveCount ?? NO_DEAD_LETTER_RECEIVE_COUNT,
    ...(def.deadLetter !== undefined ? { deadLetterQueue: def.deadLetter.queue } : {}),
  };
}
