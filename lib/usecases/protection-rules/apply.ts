import type { Plan, ProtectedInstance } from '../../domain/model.js';
import { newPlan, type PlanPatch } from '../../domain/plan.js';
import { rulePlanName, type ProtectionRule } from '../../domain/protection-rule.js';
import type { Subscription } from '../../domain/notifications.js';
import type { Deps } from '../deps.js';
import { deletePlan, updatePlan } from '../management/plans.js';
import { scheduleNow } from '../management/plan-jobs.js';
import { raiseEvent } from '../notify/raise-event.js';

/**
 * The writes of one reconciliation, each safe to repeat and ordered so that a crash between two of
 * them never leaves an instance with two plans:
 *
 * - protect: the protected-instance row is claimed first (create-if-absent, naming the plan id it
 *   will get and the rule), then the plan is created under that id; a batch of new protections
 *   takes each step for all of them at once. A crash in between leaves a row
 *   pointing at no plan, and the next tick creates that very plan (`ensurePlan`).
 * - rebind (a higher rule wins an instance another rule holds): the old plan is deleted first, then
 *   the row is moved to the new rule and plan id, then the plan is created.
 * - release: the event goes first (its id is stable while the row lives), then the plan and the row
 *   (`remove`), or the rule's claim on the row (`keep`).
 *
 * `protection.changed` carries `by: "rule:<id>"`; its id is derived from the row, so a repeat after a
 * crash is the same event, delivered at least once.
 */

export type ApplyOutcome = 'changed' | 'unchanged' | 'raced';

/** A reconciliation's dependencies: one protecting 10,000 instances reads the subscriptions once, not per event. */
export interface ApplyDeps extends Deps {
  subscriptions(): Promise<Subscription[]>;
}

async function raiseChange(
  deps: ApplyDeps,
  eventId: string,
  row: ProtectedInstance,
  change: 'protected' | 'unprotected' | 'released',
  ruleId: string,
  planId: string | null,
): Promise<void> {
  const at = deps.clock.now();
  await raiseEvent(
    deps,
    {
      id: eventId,
      type: 'protection.changed',
      at,
      scope: { instanceId: row.instanceId, planId },
      subject: row.instanceId,
      data: { instanceId: row.instanceId, change, planId, at, by: `rule:${ruleId}` },
    },
    await deps.subscriptions(),
  );
}

/** The plan body of a rule as a plan change: every field set, so the plan ends equal to the rule's. */
function planPatchOf(rule: ProtectionRule, instanceId: string): PlanPatch {
  return {
    name: rulePlanName(rule, instanceId),
    schedule: rule.plan.schedule ?? null,
    retention: rule.plan.retention,
    longTerm: rule.plan.longTerm,
    consistency: rule.plan.consistency,
    timeZone: rule.plan.timeZone,
    keepLatest: rule.plan.keepLatest,
    lock: rule.plan.lock ?? null,
  };
}

/** The plan a rule makes for one instance, under the id its protected-instance row names. */
function rulePlanFor(rule: ProtectionRule, instanceId: string, planId: string, now: number): Plan {
  return newPlan(
    { ...rule.plan, name: rulePlanName(rule, instanceId), instanceId, disks: rule.disks },
    { next: () => planId },
    now,
    Math.random,
  );
}

/**
 * An instance the rule owns and matches: its plan exists and is at the rule's revision. `planFound`
 * says whether the reading found a plan under the row's plan id.
 */
export async function ensurePlan(
  deps: ApplyDeps,
  rule: ProtectionRule,
  row: ProtectedInstance,
  planFound: boolean,
): Promise<ApplyOutcome> {
  const now = deps.clock.now();
  let current = row;
  if (current.planId === null) {
    // Its plan was deleted by hand (DELETE /plans/{id}); the rule still matches, so it gets a new one.
    const moved = await deps.store.instances.update(
      { ...current, planId: deps.ids.next('plan-'), ruleRevision: rule.revision, updatedAt: now },
      current.version,
    );
    if (!moved.ok) return 'raced';
    current = moved.value;
  }
  const planId = current.planId as string;
  if (!planFound) {
    await raiseChange(deps, `${row.instanceId}/protected/${planId}`, current, 'protected', rule.id, planId);
    const created = await deps.store.plans.create(rulePlanFor(rule, row.instanceId, planId, now));
    if (created.ok) await scheduleNow(deps, created.value);
    if (current.ruleRevision === rule.revision) return 'changed';
    await deps.store.instances.update(
      { ...current, ruleRevision: rule.revision, updatedAt: now },
      current.version,
    );
    return 'changed';
  }
  if ((current.ruleRevision ?? 0) >= rule.revision) return 'unchanged';
  const changed = await updatePlan(deps, planId, planPatchOf(rule, row.instanceId));
  if (!changed.ok) {
    deps.log.warn('a rule plan could not follow its rule', {
      ruleId: rule.id,
      planId,
      refusal: changed.error,
    });
    return 'unchanged';
  }
  const bumped = await deps.store.instances.update(
    { ...current, ruleRevision: rule.revision, updatedAt: now },
    current.version,
  );
  return bumped.ok ? 'changed' : 'raced';
}

/**
 * Protects instances that have no row yet, with the writes of one protection in the same order but
 * each step for the whole batch at once: the rows claimed in one write, then the events, then the
 * plans in one write (one SQLite transaction, or Tablestore batch writes, instead of two per
 * instance). A crash in between leaves claimed rows without plans, which the next tick completes
 * (`ensurePlan`). A row that exists by then (protected by hand, or by a tick running at the same
 * time) is left to the next tick to decide again.
 */
export async function protectManyByRule(
  deps: ApplyDeps,
  batch: { rule: ProtectionRule; instanceId: string }[],
): Promise<ApplyOutcome[]> {
  const now = deps.clock.now();
  const claimed = await deps.store.instances.createMany(
    batch.map(({ rule, instanceId }) => ({
      instanceId,
      disks: rule.disks,
      planId: deps.ids.next('plan-'),
      createdAt: now,
      updatedAt: now,
      version: 1,
      ruleId: rule.id,
      ruleRevision: rule.revision,
    })),
  );
  const plans: Plan[] = [];
  for (const [n, result] of claimed.entries()) {
    if (!result.ok) continue;
    const { rule } = batch[n] as { rule: ProtectionRule };
    const row = result.value;
    const planId = row.planId as string;
    await raiseChange(deps, `${row.instanceId}/protected/${planId}`, row, 'protected', rule.id, planId);
    plans.push(rulePlanFor(rule, row.instanceId, planId, now));
  }
  for (const created of await deps.store.plans.createMany(plans)) {
    if (created.ok) await scheduleNow(deps, created.value);
  }
  return claimed.map((c) => (c.ok ? 'changed' : 'raced'));
}

export async function rebindToRule(
  deps: ApplyDeps,
  rule: ProtectionRule,
  row: ProtectedInstance,
): Promise<ApplyOutcome> {
  if (row.planId !== null) {
    const removed = await deletePlan(deps, row.planId);
    if (!removed.ok && removed.error !== 'not_found') return 'raced';
  }
  const fresh = await deps.store.instances.get(row.instanceId);
  if (fresh === undefined || fresh.ruleId !== row.ruleId) return 'raced';
  const moved = await deps.store.instances.update(
    {
      ...fresh,
      planId: deps.ids.next('plan-'),
      ruleId: rule.id,
      ruleRevision: rule.revision,
      updatedAt: deps.clock.now(),
    },
    fresh.version,
  );
  if (!moved.ok) return 'raced';
  await ensurePlan(deps, rule, moved.value, false);
  return 'changed';
}

export async function releaseFromRule(
  deps: ApplyDeps,
  row: ProtectedInstance,
  removePlan: boolean,
): Promise<ApplyOutcome> {
  const ruleId = row.ruleId as string;
  const change = removePlan ? 'unprotected' : 'released';
  await raiseChange(deps, `${row.instanceId}/${change}/${row.createdAt}`, row, change, ruleId, row.planId);
  if (!removePlan) {
    const { ruleId: _owner, ruleRevision: _revision, ...byHand } = row;
    const released = await deps.store.instances.update(
      { ...byHand, updatedAt: deps.clock.now() },
      row.version,
    );
    return released.ok ? 'changed' : 'raced';
  }
  if (row.planId !== null) {
    const removed = await deletePlan(deps, row.planId);
    if (!removed.ok && removed.error !== 'not_found') return 'raced';
  }
  const fresh = await deps.store.instances.get(row.instanceId);
  if (fresh === undefined) return 'changed';
  if (fresh.ruleId !== ruleId) return 'raced';
  const deleted = await deps.store.instances.delete(row.instanceId, fresh.version);
  return deleted.ok || deleted.reason === 'not_found' ? 'changed' : 'raced';
}
