import { randomUUID } from 'node:crypto';
import type { FcContext, FcTimerEvent } from '../../lib/runtime/fc.js';

export type TimerInvoke = (event: Buffer, context: FcContext) => Promise<unknown>;

export function timerEvent(triggerName: string, at: Date, payload = ''): FcTimerEvent {
  // FC stamps the trigger time to the second, in UTC.
  return { triggerTime: at.toISOString().replace(/\.\d{3}Z$/, 'Z'), triggerName, payload };
}

/**
 * Plays an FC timer trigger: fires the function with a timer event every `everyMs`, never two at
 * once (a tick still running when the next is due is skipped, like a function at its concurrency
 * limit of one).
 */
export function startTimer(options: {
  name: string;
  functionName: string;
  everyMs: number;
  invoke: TimerInvoke;
  fireAtStart?: boolean;
  onError?: (err: unknown) => void;
}): { stop(): Promise<void>; fire(): Promise<void> } {
  let current: Promise<void> | null = null;
  const fire = (): Promise<void> => {
    if (current) return current;
    const context: FcContext = {
      requestId: randomUUID(),
      function: { name: options.functionName, timeout: 60 },
    };
    const event = Buffer.from(JSON.stringify(timerEvent(options.name, new Date())));
    current = options
      .invoke(event, context)
      .then(() => undefined)
      .catch((err: unknown) => options.onError?.(err))
      .finally(() => {
        current = null;
      });
    return current;
  };
  const handle = setInterval(() => void fire(), options.everyMs);
  if (options.fireAtStart) void fire();
  return {
    fire,
    async stop() {
      clearInterval(handle);
      if (current) await current;
    },
  };
}
