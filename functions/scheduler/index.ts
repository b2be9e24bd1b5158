import { coldStart, type FcFunction } from '../../lib/runtime/cold-start.js';
import type { Deps } from '../../lib/runtime/deps.js';
import type { FcContext } from '../../lib/runtime/fc.js';
import {
  reconcileProtectionRules,
  type ReconcileReport,
} from '../../lib/usecases/protection-rules/reconcile.js';
import { schedulerTick, type TickReport } from '../../lib/usecases/scheduler-tick.js';
import { timerEventSchema } from '../shared/events.js';
import { fcFunction } from '../shared/middlewares.js';

/** Leave a fifth of the function's timeout for the last page in flight. */
function budgetMs(context: FcContext): number {
  return (context.function?.timeout ?? 60) * 1000 * 0.8;
}

export type SchedulerReport = TickReport & { rules: ReconcileReport | { error: string } };

/**
 * Timer trigger, every minute. The time comes from the clock, not from `triggerTime`: FC truncates
 * that to the minute and a retried event carries the old one. After the plans, the protection rules
 * are reconciled (tag-based protection): a failure there is logged and never holds back the plans.
 */
export function createHandler(deps: Deps): FcFunction<SchedulerReport> {
  return fcFunction(
    'scheduler',
    timerEventSchema,
    async (_event: unknown, context: FcContext) => {
      const tick = await schedulerTick(deps, deps.clock.now(), { budgetMs: budgetMs(context) });
      try {
        return { ...tick, rules: await reconcileProtectionRules(deps) };
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        deps.log.error('protection rules not reconciled; the next tick retries', { error });
        return { ...tick, rules: { error } };
      }
    },
    deps.log,
  );
}

export const handler: FcFunction<SchedulerReport> = coldStart(createHandler);
