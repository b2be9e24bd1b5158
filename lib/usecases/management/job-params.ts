import type { LockRequest } from '../../domain/lock.js';
import { consistencySchema } from '../../domain/plan.js';
import type {
  BackupJobParams,
  ConsistencyOptions,
  DiskSelection,
  LongTermRule,
  Plan,
  Retention,
} from '../../domain/model.js';

/**
 * Retention of a backup taken without a plan (protect without a plan, protect-now on an instance that
 * has none), unless the request names one.
 */
export const ON_DEMAND_RETENTION: Retention = { value: 30, unit: 'days' };

export function paramsFromPlan(plan: Plan, trigger: BackupJobParams['trigger']): BackupJobParams {
  return {
    disks: plan.disks,
    retention: plan.retention,
    longTerm: plan.longTerm,
    consistency: plan.consistency,
    timeZone: plan.timeZone,
    keepLatest: plan.keepLatest,
    trigger,
    ...(plan.lock ? { lock: plan.lock } : {}),
    ...(plan.copies ? { copies: plan.copies } : {}),
  };
}

export interface OnDemandOverrides {
  disks?: DiskSelection;
  retention?: Retention;
  longTerm?: LongTermRule[];
  consistency?: Partial<ConsistencyOptions>;
  lock?: LockRequest;
}

/** A one-off backup: the request's choices, else the plan's, else the product defaults. */
export function onDemandParams(
  fallbackDisks: DiskSelection,
  plan: Plan | null,
  overrides: OnDemandOverrides,
): BackupJobParams {
  const lock = overrides.lock ?? plan?.lock;
  const defined = Object.fromEntries(
    Object.entries(overrides.consistency ?? {}).filter(([, v]) => v !== undefined),
  );
  return {
    disks: overrides.disks ?? plan?.disks ?? fallbackDisks,
    retention: overrides.retention ?? plan?.retention ?? ON_DEMAND_RETENTION,
    longTerm: overrides.longTerm ?? plan?.longTerm ?? [],
    consistency: { ...(plan?.consistency ?? consistencySchema.parse({})), ...defined },
    timeZone: plan?.timeZone ?? 'UTC',
    keepLatest: plan?.keepLatest ?? true,
    trigger: 'manual',
    ...(lock ? { lock } : {}),
    ...(plan?.copies ? { copies: plan.copies } : {}),
  };
}
