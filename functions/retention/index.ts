import { z } from 'zod';
import { coldStart, type FcFunction } from '../../lib/runtime/cold-start.js';
import type { Deps } from '../../lib/runtime/deps.js';
import type { FcContext } from '../../lib/runtime/fc.js';
import { sweepCloneOrphans } from '../../lib/usecases/clone/orphans.js';
import { sweepVerifyOrphans } from '../../lib/usecases/verify/orphans.js';
import { expireExports } from '../../lib/usecases/export/expiry.js';
import { enforceCopyRetention } from '../../lib/usecases/copy/copy-retention.js';
import { enforceRetention, type RetentionReport } from '../../lib/usecases/retention.js';
import { timerEventSchema, type TimerEvent } from '../shared/events.js';
import { BadEventError, fcFunction } from '../shared/middlewares.js';

/** The timer's payload may narrow a manual run to one instance: `{"instanceId":"i-..."}`. */
const payloadSchema = z.strictObject({
  instanceId: z
    .string()
    .regex(/^i-[a-z0-9]{4,40}$/)
    .optional(),
});

function parsePayload(payload: string | undefined): { instanceId?: string } {
  if (!payload || payload.trim() === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    throw new BadEventError('payload is not JSON');
  }
  const parsed = payloadSchema.safeParse(raw);
  if (!parsed.success)
    throw new BadEventError(`payload: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data.instanceId ? { instanceId: parsed.data.instanceId } : {};
}

/** Timer trigger, hourly: deletes expired backup points (design §3). */
export function createHandler(deps: Deps): FcFunction<RetentionReport> {
  return fcFunction(
    'retention',
    timerEventSchema,
    async (event: TimerEvent, context: FcContext) => {
      const scope = parsePayload(event.payload);
      const budgetMs = (context.function?.timeout ?? 600) * 1000 * 0.8;
      const report = await enforceRetention(deps, deps.clock.now(), {
        ...scope,
        budgetMs,
        checkLockDrift: true,
      });
      if (scope.instanceId === undefined) report.exportsDeleted = await expireExports(deps, deps.clock.now());
      if (scope.instanceId === undefined) {
        // Leftovers wait for the next hour when ECS cannot be asked now; the deletions above stand.
        report.cloneOrphans = await sweepCloneOrphans(deps).catch((err: unknown) => {
          deps.log.warn('clone leftovers not swept', {
            error: err instanceof Error ? err.message : String(err),
          });
          return undefined;
        });
      }
      if (scope.instanceId === undefined) {
        report.verifyOrphans = await sweepVerifyOrphans(deps).catch((err: unknown) => {
          deps.log.warn('verification leftovers not swept', {
            error: err instanceof Error ? err.message : String(err),
          });
          return undefined;
        });
      }
      if (scope.instanceId === undefined)
        report.copies = await enforceCopyRetention(deps, deps.clock.now(), { budgetMs });
      return report;
    },
    deps.log,
  );
}

export const handler: FcFunction<RetentionReport> = coldStart(createHandler);
