import { applyPlanPatch, newPlan, resumePlan, suspendPlan } from '../../domain/plan.js';
import type { PlanPatch, PlanSpec } from '../../domain/plan.js';
import { preview } from '../../domain/retention.js';
import type { PreviewRow } from '../../domain/retention.js';
import type { BackupPoint, DiskSelection, Job, Plan } from '../../domain/model.js';
import type { Page, PageRequest, PlanFilter } from '../../ports/store.js';
import type { Deps } from '../deps.js';
import { firstOccurrenceAtOrAfter } from '../../domain/schedule.js';
import { checkInstanceDisks } from './checks.js';
import { refuseCopyRegions } from './copy-regions.js';
import { refuseVerifyHelper } from '../verify/helper-check.js';
import { paramsFromPlan } from './job-params.js';
import type { Outcome } from './outcome.js';
import { conflict, MAX_WRITE_ATTEMPTS, notFound, ok } from './outcome.js';
import { cancelIfPlanStopped, cancelUnstartedJobs, scheduleNow } from './plan-jobs.js';
import { startBackupJob } from './start-backup.js';

export async function listPlans(
  deps: Pick<Deps, 'store'>,
  filter: PlanFilter,
  page: PageRequest,
): Promise<Page<Plan>> {
  return deps.store.plans.list(filter, page);
}

export async function getPlan(deps: Pick<Deps, 'store'>, planId: string): Promise<Outcome<Plan>> {
  const plan = await deps.store.plans.get(planId);
  return plan === undefined ? notFound('plan', planId) : ok(plan);
}

export interface CreatePlanRequest {
  instanceId: string;
  disks: DiskSelection;
  plan: PlanSpec;
}

/**
 * A plan for an instance: protects it when it is not protected yet, binds the plan when it is
 * protected without one, and refuses when another plan already covers it (one plan per instance).
 * The protected-instance row is claimed first with a conditional write, so a losing race writes
 * nothing; the plan follows.
 */
export async function createPlan(
  deps: Deps,
  request: CreatePlanRequest,
  random: () => number = Math.random,
): Promise<Outcome<Plan>> {
  const existing = await deps.store.instances.get(request.instanceId);
  if (existing !== undefined && existing.planId !== null) {
    return conflict(`instance ${request.instanceId} is already protected by plan ${existing.planId}`);
  }
  const badCopies = refuseCopyRegions(deps, request.plan.copies, 'plan.copies');
  if (badCopies) return badCopies;
  const checked = await checkInstanceDisks(deps, request.instanceId, request.disks);
  if (!checked.ok) return checked;
  const badHelper = await refuseVerifyHelper(
    deps,
    checked.value.instance,
    request.plan.verify,
    'plan.verify',
  );
  if (badHelper) return badHelper;
  const now = deps.clock.now();
  const plan = newPlan(
    { ...request.plan, instanceId: request.instanceId, disks: request.disks },
    deps.ids,
    now,
    random,
  );

  const claimed =
    existing === undefined
      ? await deps.store.instances.create({
          instanceId: request.instanceId,
          disks: request.disks,
          planId: plan.id,
          createdAt: now,
          updatedAt: now,
          version: 1,
        })
      : await deps.store.instances.update(
          { ...existing, disks: request.disks, planId: plan.id, updatedAt: now },
          existing.version,
        );
  if (!claimed.ok) {
    const current = await deps.store.instances.get(request.instanceId);
    return conflict(
      current?.planId
        ? `instance ${request.instanceId} is already protected by plan ${current.planId}`
        : `instance ${request.instanceId} changed while the plan was being created; retry`,
    );
  }
  const written = await deps.store.plans.create(plan);
  if (!written.ok) throw new Error(`plan id ${plan.id} already exists`);
  return ok(await scheduleNow(deps, written.value));
}

export type PlanChange = PlanPatch & { disks?: DiskSelection };

export async function updatePlan(deps: Deps, planId: string, change: PlanChange): Promise<Outcome<Plan>> {
  const { disks, ...patch } = change;
  const found = await deps.store.plans.get(planId);
  if (found === undefined) return notFound('plan', planId);
  const badCopies = refuseCopyRegions(deps, patch.copies, 'copies');
  if (badCopies) return badCopies;
  if (disks !== undefined || (patch.verify !== undefined && patch.verify !== null)) {
    const checked = await checkInstanceDisks(deps, found.instanceId, disks);
    if (!checked.ok) return checked;
    const badHelper = await refuseVerifyHelper(deps, checked.value.instance, patch.verify, 'verify');
    if (badHelper) return badHelper;
  }
  const changed = await rewritePlan(deps, planId, (plan, now) => {
    const next = applyPlanPatch(plan, patch, now);
    return disks === undefined ? next : { ...next, disks };
  });
  if (!changed.ok || patch.schedule === undefined) return changed;
  // Occurrences of the old schedule already handed to the queue are no longer wanted.
  const schedule = changed.value.schedule;
  await cancelUnstartedJobs(
    deps,
    planId,
    'plan schedule changed',
    (job) =>
      job.scheduledAt === null ||
      (schedule !== undefined && firstOccurrenceAtOrAfter(schedule, job.scheduledAt) === job.scheduledAt),
  );
  return ok(await scheduleNow(deps, changed.value));
}

/**
 * Suspend: no new jobs; Run Now jobs not started yet are canceled; running jobs finish. Occurrences
 * already handed to the queue stay: at their second the worker skips them if the plan is still
 * suspended, and runs them if it was resumed meanwhile (a resume must not lose the next occurrence).
 */
export async function suspend(deps: Deps, planId: string): Promise<Outcome<Plan>> {
  const suspended = await rewritePlan(deps, planId, (plan, now) =>
    plan.state === 'SUSPENDED' ? plan : suspendPlan(plan, now),
  );
  if (suspended.ok) {
    await cancelUnstartedJobs(deps, planId, 'plan suspended', (job) => job.scheduledAt !== null);
  }
  return suspended;
}

/** Resume: the next occurrence from now on, never a burst of what was missed while suspended. */
export async function resume(deps: Deps, planId: string): Promise<Outcome<Plan>> {
  const resumed = await rewritePlan(deps, planId, (plan, now) =>
    plan.state === 'ACTIVE' ? plan : resumePlan(plan, now),
  );
  return resumed.ok ? ok(await scheduleNow(deps, resumed.value)) : resumed;
}

/** Read, change, write at the read version; a lost race re-reads and re-applies the change. */
async function rewritePlan(
  deps: Pick<Deps, 'store' | 'clock'>,
  planId: string,
  change: (plan: Plan, now: number) => Plan,
): Promise<Outcome<Plan>> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
    const plan = await deps.store.plans.get(planId);
    if (plan === undefined) return notFound('plan', planId);
    const next = change(plan, deps.clock.now());
    if (next === plan) return ok(plan);
    const written = await deps.store.plans.update(next, plan.version);
    if (written.ok) return ok(written.value);
    if (written.reason === 'not_found') return notFound('plan', planId);
  }
  return conflict(`plan ${planId} is being changed by another request; retry`);
}

/**
 * Deleting a plan keeps its backups (they expire on their own `expireAt`) and leaves the instance
 * protected with on-demand backups only. Its jobs not started yet are canceled; running ones finish.
 */
export async function deletePlan(deps: Deps, planId: string): Promise<Outcome<Plan>> {
  let plan: Plan | undefined;
  for (let attempt = 0; ; attempt += 1) {
    plan = await deps.store.plans.get(planId);
    if (plan === undefined) return notFound('plan', planId);
    // At the read version, so the plan answered is exactly the one deleted.
    const removed = await deps.store.plans.delete(planId, plan.version);
    if (removed.ok) break;
    if (removed.reason === 'not_found') return notFound('plan', planId);
    if (attempt + 1 >= MAX_WRITE_ATTEMPTS)
      return conflict(`plan ${planId} is being changed by another request; retry`);
  }
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
    const instance = await deps.store.instances.get(plan.instanceId);
    if (instance === undefined || instance.planId !== planId) break;
    const written = await deps.store.instances.update(
      { ...instance, planId: null, updatedAt: deps.clock.now() },
      instance.version,
    );
    if (written.ok || written.reason === 'not_found') break;
  }
  await cancelUnstartedJobs(deps, planId, 'plan deleted');
  return ok(plan);
}

/**
 * Run now: a manual backup with the plan's settings, with or without a schedule. A suspended plan
 * performs no backup (as in HBR), so it is refused; an on-demand backup of the instance is not.
 */
export async function runPlan(deps: Deps, planId: string): Promise<Outcome<Job>> {
  const plan = await deps.store.plans.get(planId);
  if (plan === undefined) return notFound('plan', planId);
  if (plan.state === 'SUSPENDED') {
    return conflict(
      `plan ${planId} is suspended and a suspended plan performs no backup; resume it (POST /plans/${planId}/resume), or back the instance up on demand (POST /protected-instances/${plan.instanceId}/backups)`,
    );
  }
  const job = await startBackupJob(deps, {
    instanceId: plan.instanceId,
    planId: plan.id,
    params: paramsFromPlan(plan, 'manual'),
  });
  return ok(await cancelIfPlanStopped(deps, job));
}

export interface RetentionPreview {
  plan: Plan;
  evaluatedAt: number;
  rows: (PreviewRow & { point: BackupPoint })[];
}

/** Points a preview reads at most; an instance with more is previewed on its newest ones. */
export const PREVIEW_POINT_LIMIT = 10_000;

/** What the plan's policy would keep and delete among the instance's existing points, and why. */
export async function retentionPreview(
  deps: Pick<Deps, 'store' | 'clock'>,
  planId: string,
): Promise<Outcome<RetentionPreview>> {
  const plan = await deps.store.plans.get(planId);
  if (plan === undefined) return notFound('plan', planId);
  const points: BackupPoint[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.points.list(
      { instanceId: plan.instanceId, status: ['AVAILABLE', 'DELETING', 'DELETE_FAILED', 'CREATING'] },
      { limit: 1000, cursor },
    );
    points.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined && points.length < PREVIEW_POINT_LIMIT);
  const now = deps.clock.now();
  const byId = new Map(points.map((p) => [p.id, p]));
  const rows = preview(
    {
      retention: plan.retention,
      longTerm: plan.longTerm,
      timeZone: plan.timeZone,
      keepLatest: plan.keepLatest,
      keepVerified: plan.verify !== undefined,
    },
    points,
    now,
  ).flatMap((row) => {
    const point = byId.get(row.pointId);
    return point === undefined ? [] : [{ ...row, point }];
  });
  return ok({ plan, evaluatedAt: now, rows });
}
