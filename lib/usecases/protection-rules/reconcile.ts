import type { ProtectedInstance } from '../../domain/model.js';
import type { Subscription } from '../../domain/notifications.js';
import {
  decideReconciliation,
  ruleMatches,
  type FleetInstance,
  type ProtectionRule,
  type ReconcileDecision,
  type RuleAction,
} from '../../domain/protection-rule.js';
import type { EcsInstance } from '../../ports/ecs.js';
import type { Deps } from '../deps.js';
import { allSubscriptions } from '../notify/raise-event.js';
import {
  ensurePlan,
  protectManyByRule,
  rebindToRule,
  releaseFromRule,
  type ApplyDeps,
  type ApplyOutcome,
} from './apply.js';
import { allRules } from './rules.js';

/**
 * Tag-based protection, run by the scheduler function after each tick (every minute in the cloud,
 * every SCHEDULER_TICK_SECONDS locally). One reconciliation reads ECS once per distinct tag filter
 * (100 instances a call), reads the protected-instance rows and which of their plans exist, decides
 * in the domain (`decideReconciliation`) and carries the actions out, new protections in batches.
 * It acts only on a complete reading: if any ECS listing fails, nothing changes this time, so an
 * instance is never released because ECS did not answer.
 */

export interface FleetReading {
  rules: ProtectionRule[];
  matches: Map<string, FleetInstance[]>;
  protections: Map<string, ProtectedInstance>;
  /** Ids of the rule-made plans that exist: only their presence is needed, not their documents. */
  plans: Set<string>;
  /** DescribeInstances listings made (one per distinct tag filter and zone). */
  listings: number;
}

export interface ReconcileReport {
  rules: number;
  matched: number;
  protected: number;
  rebound: number;
  released: number;
  updated: number;
  raced: number;
  failed: number;
  /** Set when the reading failed and nothing was changed. */
  error?: string;
}

/** Writes in flight at once; each action is a few store writes. */
const CONCURRENCY = 8;
const ROW_PAGE = 1000;
/** New protections written together: their rows in one write, then their plans in one. */
const PROTECT_BATCH = 500;

function fleetInstance(i: EcsInstance): FleetInstance {
  return { instanceId: i.instanceId, zoneId: i.zoneId, osType: i.osType, tags: i.tags };
}

/** Rules with the same tags and single zone share one listing. */
function listingKey(rule: ProtectionRule): {
  key: string;
  tags: { key: string; value: string }[];
  zone?: string;
} {
  const tags = Object.entries(rule.match.tags)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));
  const zone = rule.match.zoneIds?.length === 1 ? rule.match.zoneIds[0] : undefined;
  return { key: JSON.stringify([tags, zone ?? null]), tags, ...(zone === undefined ? {} : { zone }) };
}

async function ownedRows(deps: Deps, ruleId: string): Promise<ProtectedInstance[]> {
  const out: ProtectedInstance[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.instances.listByRule(ruleId, { limit: ROW_PAGE, order: 'asc', cursor });
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return out;
}

/** Everything one decision needs, read without writing anything. */
export async function readFleet(deps: Deps): Promise<FleetReading> {
  const rules = await allRules(deps);
  const active = rules.filter((r) => r.state === 'ACTIVE');
  const listings = new Map<string, { tags: { key: string; value: string }[]; zone?: string }>();
  for (const rule of active) {
    const { key, ...filter } = listingKey(rule);
    listings.set(key, filter);
  }
  const listed = new Map<string, EcsInstance[]>();
  await Promise.all(
    [...listings].map(async ([key, filter]) => {
      listed.set(key, await deps.ecs.describeInstancesByTags(filter.tags, filter.zone));
    }),
  );
  const matches = new Map<string, FleetInstance[]>();
  for (const rule of active) {
    const found = (listed.get(listingKey(rule).key) ?? []).map(fleetInstance);
    matches.set(
      rule.id,
      found.filter((i) => ruleMatches(rule.match, i)),
    );
  }
  const protections = new Map<string, ProtectedInstance>();
  for (const rule of rules)
    for (const row of await ownedRows(deps, rule.id)) protections.set(row.instanceId, row);
  const matchedIds = [...new Set([...matches.values()].flatMap((list) => list.map((i) => i.instanceId)))];
  const unknown = matchedIds.filter((id) => !protections.has(id));
  for (const row of await deps.store.instances.getMany(unknown)) protections.set(row.instanceId, row);
  const planIds = [...protections.values()].flatMap((r) =>
    r.ruleId !== undefined && r.planId !== null ? [r.planId] : [],
  );
  const plans = await deps.store.plans.existing(planIds);
  return { rules, matches, protections, plans, listings: listings.size };
}

type OneAction = Exclude<RuleAction, { kind: 'protect' }>;

async function apply(deps: ApplyDeps, reading: FleetReading, action: OneAction): Promise<ApplyOutcome> {
  const rule = reading.rules.find((r) => r.id === action.ruleId);
  const row = reading.protections.get(action.instanceId);
  switch (action.kind) {
    case 'keep':
      if (rule === undefined || row === undefined) return 'unchanged';
      return ensurePlan(deps, rule, row, row.planId !== null && reading.plans.has(row.planId));
    case 'rebind':
      return rule === undefined || row === undefined ? 'unchanged' : rebindToRule(deps, rule, row);
    case 'release':
      return row === undefined ? 'unchanged' : releaseFromRule(deps, row, action.removePlan);
  }
}

async function inParallel<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(CONCURRENCY, items.length)) }, worker));
}

/** The protect actions, PROTECT_BATCH at a time; a batch that fails is retried whole by the next tick. */
async function protectInBatches(
  deps: ApplyDeps,
  reading: FleetReading,
  actions: RuleAction[],
  report: ReconcileReport,
): Promise<void> {
  const protects = actions.flatMap((a) => {
    const rule = a.kind === 'protect' ? reading.rules.find((r) => r.id === a.ruleId) : undefined;
    return rule === undefined ? [] : [{ rule, instanceId: a.instanceId }];
  });
  for (let i = 0; i < protects.length; i += PROTECT_BATCH) {
    const batch = protects.slice(i, i + PROTECT_BATCH);
    try {
      for (const outcome of await protectManyByRule(deps, batch)) {
        if (outcome === 'changed') report.protected += 1;
        else report.raced += 1;
      }
    } catch (err) {
      report.failed += batch.length;
      deps.log.error('protecting a batch of instances failed; the next tick retries it', {
        instances: batch.length,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

/** Writes each rule's status; removes a DELETING rule that holds no instance any more. */
async function recordStatus(
  deps: Deps,
  reading: FleetReading,
  decision: ReconcileDecision | null,
  error: string | null,
  now: number,
): Promise<void> {
  for (const rule of reading.rules) {
    if (rule.state === 'DELETING') {
      const holds = [...reading.protections.values()].some((r) => r.ruleId === rule.id);
      if (!holds) await deps.store.protectionRules.delete(rule.id, rule.version);
      continue;
    }
    const tally = decision?.status.get(rule.id);
    const status =
      tally === undefined
        ? { ...rule.status, reconciledAt: now, error }
        : { ...tally, reconciledAt: now, error };
    // Losing to a request that changed the rule is fine: the next tick writes the status again.
    await deps.store.protectionRules.update({ ...rule, status }, rule.version);
  }
}

export async function reconcileProtectionRules(deps: Deps): Promise<ReconcileReport> {
  const now = deps.clock.now();
  const report: ReconcileReport = {
    rules: 0,
    matched: 0,
    protected: 0,
    rebound: 0,
    released: 0,
    updated: 0,
    raced: 0,
    failed: 0,
  };
  let reading: FleetReading;
  try {
    reading = await readFleet(deps);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    deps.log.warn('protection rules not reconciled: reading failed; nothing changed', { error: message });
    const rules = await allRules(deps);
    await recordStatus(
      deps,
      {
        rules: rules.filter((r) => r.state === 'ACTIVE'),
        matches: new Map(),
        protections: new Map(),
        plans: new Set(),
        listings: 0,
      },
      null,
      `not reconciled: ${message}`,
      now,
    );
    return { ...report, rules: rules.length, error: message };
  }
  report.rules = reading.rules.length;
  const decision = decideReconciliation(reading);
  report.matched = new Set([...reading.matches.values()].flatMap((l) => l.map((i) => i.instanceId))).size;
  // Read when the first event is raised: a steady tick raises none and reads nothing.
  let subscriptions: Promise<Subscription[]> | undefined;
  const applyDeps: ApplyDeps = { ...deps, subscriptions: () => (subscriptions ??= allSubscriptions(deps)) };
  await protectInBatches(applyDeps, reading, decision.actions, report);
  const rest = decision.actions.filter((a): a is OneAction => a.kind !== 'protect');
  await inParallel(rest, async (action) => {
    try {
      const outcome = await apply(applyDeps, reading, action);
      if (outcome === 'raced') report.raced += 1;
      else if (outcome === 'changed') {
        if (action.kind === 'rebind') report.rebound += 1;
        else if (action.kind === 'release') report.released += 1;
        else report.updated += 1;
      }
    } catch (err) {
      report.failed += 1;
      deps.log.error('a protection rule action failed; the next tick retries it', {
        action,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  });
  await recordStatus(deps, reading, decision, null, now);
  return report;
}
