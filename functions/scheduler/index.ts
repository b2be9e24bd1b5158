import { coldStart, type FcFunction } from '../../lib/runtime/cold-start.js';
import type { Deps } from '../../lib/runtime/deps.js';
import type { FcContext } from '../../lib/runtime/fc.js';
import { decodeQueueBody } from '../../lib/runtime/queue-body.js';
import { recoverCrashedDeliveries, type CrashReport } from '../../lib/usecases/jobs/crashed-deliveries.js';
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

export interface SchedulerReport extends TickReport {
  /** Tag-based protection, reconciled after the plans. */
  rules: ReconcileReport | { error: string };
  /** Job messages whose worker invocation crashed, read back from the dead-letter queue. */
  crashedDeliveries: CrashReport;
}

/**
 * Timer trigger, every minute. The time comes from the clock, not from `triggerTime`: FC truncates
 * that to the minute and a retried event carries the old one. After the plans, the protection rules
 * are reconciled (tag-based protection): a failure there is logged and never holds back the plans.
 * Deployed, each tick also takes back the job messages EventBridge dead-lettered after their
 * invocations crashed (`crashed-deliveries.ts`); the local cloud has no EventBridge, and its
 * worker's crashes are redelivered by the queue itself.
 */
export function createHandler(
  deps: Deps,
  options: { recoverCrashedDeliveries?: boolean } = {},
): FcFunction<SchedulerReport> {
  return fcFunction(
    'scheduler',
    timerEventSchema,
    async (_event: unknown, context: FcContext) => {
      const tick = await schedulerTick(deps, deps.clock.now(), { budgetMs: budgetMs(context) });
      let rules: SchedulerReport['rules'];
      try {
        rules = await reconcileProtectionRules(deps);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        deps.log.error('protection rules not reconciled; the next tick retries', { error });
        rules = { error };
      }
      const crashedDeliveries = options.recoverCrashedDeliveries
        ? await recoverCrashedDeliveries(deps, { decodeBody: decodeQueueBody })
        : { resent: 0, failed: 0 };
      return { ...tick, rules, crashedDeliveries };
    },
    deps.log,
  );
}

export const handler: FcFunction<SchedulerReport> = coldStart((deps) =>
  createHandler(deps, { recoverCrashedDeliveries: true }),
);
