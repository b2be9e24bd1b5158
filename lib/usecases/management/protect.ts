import { newPlan } from '../../domain/plan.js';
import type { PlanSpec } from '../../domain/plan.js';
import type { DiskSelection, Job, Plan, ProtectedInstance } from '../../domain/model.js';
import type { Deps } from '../deps.js';
import { pointSource } from '../backup/source.js';
import { refuseCopyRegions } from './copy-regions.js';
import { refuseVerifyHelper } from '../verify/helper-check.js';
import { checkInstanceDisks } from './checks.js';
import type { OnDemandOverrides } from './job-params.js';
import { onDemandParams, paramsFromPlan } from './job-params.js';
import type { Outcome } from './outcome.js';
import { conflict, MAX_WRITE_ATTEMPTS, notFound, ok } from './outcome.js';
import { cancelUnstartedJobs, scheduleNow } from './plan-jobs.js';
import { startBackupJob } from './start-backup.js';
import { raiseProtectionChanged } from '../notify/protection-events.js';

export interface ProtectRequest {
  instanceId: string;
  disks: DiskSelection;
  /** Absent, or without a schedule: the instance is protected and one backup starts now. */
  plan?: PlanSpec;
}

export interface ProtectResult {
  protectedInstance: ProtectedInstance;
  plan: Plan | null;
  job: Job | null;
}

/**
 * The "Add ECS instance" wizard. Every check runs before the first write, and the protected-instance
 * row is written first with create-if-absent: it is the one write that can lose a race, so a losing
 * request leaves nothing behind.
 */
export async function protectInstance(
  deps: Deps,
  request: ProtectRequest,
  random: () => number = Math.random,
): Promise<Outcome<ProtectResult>> {
  const existing = await deps.store.instances.get(request.instanceId);
  if (existing !== undefined) return alreadyProtected(existing);
  const badCopies = refuseCopyRegions(deps, request.plan?.copies, 'plan.copies');
  if (badCopies) return badCopies;
  const checked = await checkInstanceDisks(deps, request.instanceId, request.disks);
  if (!checked.ok) return checked;
  const badHelper = await refuseVerifyHelper(
    deps,
    checked.value.instance,
    request.plan?.verify,
    'plan.verify',
  );
  if (badHelper) return badHelper;

  const now = deps.clock.now();
  const plan =
    request.plan === undefined
      ? null
      : newPlan(
          { ...request.plan, instanceId: request.instanceId, disks: request.disks },
          deps.ids,
          now,
          random,
        );
  const created = await deps.store.instances.create({
    instanceId: request.instanceId,
    disks: request.disks,
    planId: plan?.id ?? null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  });
  if (!created.ok) {
    const current = created.current ?? (await deps.store.instances.get(request.instanceId));
    return current === undefined
      ? conflict(`instance ${request.instanceId} is being protected`)
      : alreadyProtected(current);
  }
  let storedPlan: Plan | null = null;
  if (plan !== null) {
    const written = await deps.store.plans.create(plan);
    if (!written.ok) {
      // Plan ids are random; a clash means the id source is broken, so undo and fail loudly.
      await deps.store.instances.delete(request.instanceId, created.value.version);
      throw new Error(`plan id ${plan.id} already exists`);
    }
    storedPlan = await scheduleNow(deps, written.value);
  }
  let job: Job | null = null;
  if (storedPlan?.schedule === undefined) {
    const params =
      storedPlan === null ? onDemandParams(request.disks, null, {}) : paramsFromPlan(storedPlan, 'manual');
    job = await startBackupJob(deps, {
      instanceId: request.instanceId,
      planId: storedPlan?.id ?? null,
      params: { ...params, source: pointSource(checked.value.instance) },
    });
  }
  await raiseProtectionChanged(deps, {
    instanceId: request.instanceId,
    change: 'protected',
    planId: storedPlan?.id ?? null,
    at: now,
  });
  return ok({ protectedInstance: created.value, plan: storedPlan, job });
}

function alreadyProtected(current: ProtectedInstance): Outcome<never> {
  return conflict(
    current.planId === null
      ? `instance ${current.instanceId} is already protected (on-demand backups); add a plan with POST /plans`
      : `instance ${current.instanceId} is already protected by plan ${current.planId}`,
  );
}

/** Protect now: one backup of a protected instance with the request's choices over the plan's. */
export async function backupNow(
  deps: Deps,
  instanceId: string,
  overrides: OnDemandOverrides,
): Promise<Outcome<Job>> {
  const protectedInstance = await deps.store.instances.get(instanceId);
  if (protectedInstance === undefined) return notFound('protected instance', instanceId);
  const checked = await checkInstanceDisks(deps, instanceId, overrides.disks);
  if (!checked.ok) return checked;
  const plan =
    protectedInstance.planId === null
      ? null
      : ((await deps.store.plans.get(protectedInstance.planId)) ?? null);
  const params = {
    ...onDemandParams(protectedInstance.disks, plan, overrides),
    source: pointSource(checked.value.instance),
  };
  return ok(await startBackupJob(deps, { instanceId, planId: null, params }));
}

export interface StopResult {
  instanceId: string;
  deletedPlanIds: string[];
}

/**
 * Stop protection: every plan of the instance goes first, so the scheduler stops before the instance
 * leaves the list; a crash in between leaves a protected instance without plans, and a retry finishes.
 * Backups stay and keep expiring on their own `expireAt`.
 */
export async function stopProtection(deps: Deps, instanceId: string): Promise<Outcome<StopResult>> {
  const deleted: string[] = [];
  const stopped = async (): Promise<Outcome<StopResult>> => {
    // As deleting one plan does: what the plans queued and did not start yet is canceled.
    for (const planId of deleted) await cancelUnstartedJobs(deps, planId, 'plan deleted');
    await raiseProtectionChanged(deps, {
      instanceId,
      change: 'unprotected',
      planId: null,
      at: deps.clock.now(),
    });
    return ok({ instanceId, deletedPlanIds: deleted });
  };
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
    const current = await deps.store.instances.get(instanceId);
    if (current === undefined) return attempt === 0 ? notFound('protected instance', instanceId) : stopped();
    for (const plan of await allPlansOf(deps, instanceId)) {
      const removed = await deps.store.plans.delete(plan.id);
      if (removed.ok) deleted.push(plan.id);
    }
    const removed = await deps.store.instances.delete(instanceId, current.version);
    if (removed.ok || removed.reason === 'not_found') return stopped();
  }
  return conflict(`instance ${instanceId} changed while protection was being stopped; retry`);
}

export async function allPlansOf(deps: Pick<Deps, 'store'>, instanceId: string): Promise<Plan[]> {
  const plans: Plan[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.plans.list({ instanceId }, { limit: 1000, cursor });
    plans.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return plans;
}
