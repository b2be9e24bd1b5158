import {
  emptyRuleStatus,
  type ProtectionRule,
  type RulePatch,
  type RuleSpec,
} from '../../domain/protection-rule.js';
import type { Page, PageRequest } from '../../ports/store.js';
import type { Deps } from '../deps.js';
import { conflict, invalid, MAX_WRITE_ATTEMPTS, notFound, ok, type Outcome } from '../management/outcome.js';

/** Rules read per page; a deployment has tens. */
const RULE_PAGE = 200;

export async function allRules(deps: Pick<Deps, 'store'>): Promise<ProtectionRule[]> {
  const out: ProtectionRule[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.protectionRules.list({ limit: RULE_PAGE, order: 'asc', cursor });
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return out;
}

/**
 * Two rules with one priority would leave the winner to creation order, which nobody reads in a
 * list: the priority must be unique. Checked by reading, so two requests racing with the same
 * priority can both pass; reconciliation then still picks one winner (the older rule).
 */
async function priorityTaken(deps: Pick<Deps, 'store'>, priority: number, except?: string) {
  return (await allRules(deps)).find((r) => r.priority === priority && r.id !== except);
}

function priorityProblem(holder: ProtectionRule, priority: number) {
  return invalid([
    { path: 'priority', message: `rule ${holder.id} (${holder.name}) already has priority ${priority}` },
  ]);
}

/** A new rule; it protects nothing until the next scheduler tick reconciles it. */
export async function createRule(deps: Deps, spec: RuleSpec): Promise<Outcome<ProtectionRule>> {
  const holder = await priorityTaken(deps, spec.priority);
  if (holder !== undefined) return priorityProblem(holder, spec.priority);
  const now = deps.clock.now();
  const rule: ProtectionRule = {
    id: deps.ids.next('rule-'),
    name: spec.name,
    priority: spec.priority,
    match: spec.match,
    disks: spec.disks,
    plan: spec.plan,
    onUnmatch: spec.onUnmatch,
    revision: 1,
    state: 'ACTIVE',
    status: emptyRuleStatus(),
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  const created = await deps.store.protectionRules.create(rule);
  if (!created.ok) throw new Error(`protection rule id ${rule.id} already taken`);
  return ok(created.value);
}

export async function getRule(deps: Pick<Deps, 'store'>, id: string): Promise<Outcome<ProtectionRule>> {
  const rule = await deps.store.protectionRules.get(id);
  return rule === undefined ? notFound('protection rule', id) : ok(rule);
}

export function listRules(deps: Pick<Deps, 'store'>, page: PageRequest): Promise<Page<ProtectionRule>> {
  return deps.store.protectionRules.list(page);
}

/**
 * Changes take effect at the next reconciliation. A new `plan` (or `disks`) raises the revision, and
 * each plan the rule made is brought to it then; match, priority and onUnmatch need no revision.
 */
export async function updateRule(deps: Deps, id: string, patch: RulePatch): Promise<Outcome<ProtectionRule>> {
  if (patch.priority !== undefined) {
    const holder = await priorityTaken(deps, patch.priority, id);
    if (holder !== undefined) return priorityProblem(holder, patch.priority);
  }
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
    const rule = await deps.store.protectionRules.get(id);
    if (rule === undefined) return notFound('protection rule', id);
    if (rule.state === 'DELETING') return conflict(`protection rule ${id} is being deleted`);
    const planChanged =
      (patch.plan !== undefined && JSON.stringify(patch.plan) !== JSON.stringify(rule.plan)) ||
      (patch.disks !== undefined && patch.disks !== rule.disks);
    const next: ProtectionRule = {
      ...rule,
      ...(patch.name === undefined ? {} : { name: patch.name }),
      ...(patch.priority === undefined ? {} : { priority: patch.priority }),
      ...(patch.match === undefined ? {} : { match: patch.match }),
      ...(patch.disks === undefined ? {} : { disks: patch.disks }),
      ...(patch.plan === undefined ? {} : { plan: patch.plan }),
      ...(patch.onUnmatch === undefined ? {} : { onUnmatch: patch.onUnmatch }),
      revision: planChanged ? rule.revision + 1 : rule.revision,
      updatedAt: deps.clock.now(),
    };
    const written = await deps.store.protectionRules.update(next, rule.version);
    if (written.ok) return ok(written.value);
    if (written.reason === 'not_found') return notFound('protection rule', id);
  }
  return conflict(`protection rule ${id} is being changed by another request; retry`);
}

/**
 * Deleting a rule marks it DELETING: from then on it matches nothing, the next reconciliation
 * releases its instances with their plans and backups kept (they become instances protected by
 * hand), and then removes the rule. Releasing thousands of instances is the tick's work, not a
 * request's.
 */
export async function deleteRule(deps: Deps, id: string): Promise<Outcome<ProtectionRule>> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
    const rule = await deps.store.protectionRules.get(id);
    if (rule === undefined) return notFound('protection rule', id);
    if (rule.state === 'DELETING') return ok(rule);
    const written = await deps.store.protectionRules.update(
      { ...rule, state: 'DELETING', updatedAt: deps.clock.now() },
      rule.version,
    );
    if (written.ok) return ok(written.value);
    if (written.reason === 'not_found') return notFound('protection rule', id);
  }
  return conflict(`protection rule ${id} is being changed by another request; retry`);
}
