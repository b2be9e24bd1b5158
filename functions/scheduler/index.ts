import { coldStart, type FcFunction } from '../../lib/runtime/cold-start.js';
import type { Deps } from '../../lib/runtime/deps.js';
import type { FcContext } from '../../lib/runtime/fc.js';
import { schedulerTick, type TickReport } from '../../lib/usecases/scheduler-tick.js';
import { timerEventSchema } from '../shared/events.js';
import { fcFunction } from '../shared/middlewares.js';

/** Leave a fifth of the function's timeout for the last page in flight. */
function budgetMs(context: FcContext): number {
  return (context.function?.timeout ?? 60) * 1000 * 0.8;
}

/**
 * Timer trigger, every minute. The time comes from the clock, not from `triggerTime`: FC truncates
 * that to the minute and a retried event carries the old one.
 */
export function createHandler(deps: Deps): FcFunction<TickReport> {
  return fcFunction(
    'scheduler',
    timerEventSchema,
    (_event: unknown, context: FcContext) =>
      schedulerTick(deps, deps.clock.now(), { budgetMs: budgetMs(context) }),
    deps.log,
  );
}

export const handler: FcFunction<TickReport> = coldStart(createHandler);
