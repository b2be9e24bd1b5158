/**
 * Tag-based auto-protection: a rule protects every ECS instance whose tags (and optionally zone and
 * OS) match, with one plan body. This file holds the rule's shape, its input schemas and the pure
 * decision of what one reconciliation does; the use case reads ECS and the store and carries it out.
 *
 * Ownership lives on the protected-instance row (`ruleId`): a row without it was protected by hand
 * and no rule ever takes it over. Among the rules matching an instance the one with the highest
 * `priority` wins (ties: the older rule); the others report the conflict on their status. An owned
 * instance that no rule matches any more (tag removed, instance released) keeps its backups, and its
 * plan is removed or kept as its rule's `onUnmatch` says. A rule being deleted matches nothing, and
 * its instances are released with their plans kept.
 */
import { z } from 'zod';
import type { OsType, ProtectedInstance } from './model.js';
import { planNameSchema, planSpecSchema } from './plan.js';
import type { PlanSpec } from './plan.js';

/** DescribeInstances takes up to 20 `Tag.N` filters. */
export const MAX_RULE_TAGS = 20;
/** Conflicts listed on a rule's status; the count says how many there were. */
export const MAX_STATUS_CONFLICTS = 50;

const tagKey = z
  .string()
  .min(1, { error: 'a tag key must be 1-128 characters' })
  .max(128, { error: 'a tag key must be 1-128 characters' })
  .refine((k) => !/^(aliyun|acs:)/i.test(k) && !/^https?:\/\//i.test(k), {
    error: 'a tag key must not start with aliyun, acs:, http:// or https://',
  });
const tagValue = z.string().max(128, { error: 'a tag value must be at most 128 characters' });
const zoneIdSchema = z
  .string()
  .regex(/^[a-z]{2}-[a-z0-9-]{1,40}$/, { error: 'must be an ECS zone id like cn-hangzhou-h' });

export const ruleMatchSchema = z.strictObject({
  tags: z
    .record(tagKey, tagValue)
    .refine((t) => Object.keys(t).length >= 1, {
      error: 'must name at least one tag: a rule that matches every instance is refused',
    })
    .refine((t) => Object.keys(t).length <= MAX_RULE_TAGS, { error: `at most ${MAX_RULE_TAGS} tags` }),
  zoneIds: z
    .array(zoneIdSchema)
    .min(1, { error: 'must list at least one zone, or be left out' })
    .max(20, { error: 'at most 20 zones' })
    .optional(),
  osType: z.enum(['linux', 'windows'], { error: 'must be linux or windows' }).optional(),
});

export type RuleMatch = z.output<typeof ruleMatchSchema>;

/** A rule protects many instances, whose disk ids differ: only "every disk attached" makes sense. */
const ruleDisksSchema = z.literal('all', {
  error: 'a rule protects many instances, so it takes only "all" (every disk attached at each backup)',
});

const priority = z
  .int({ error: 'must be a whole number' })
  .min(1, { error: 'must be 1-1000000' })
  .max(1_000_000, { error: 'must be 1-1000000' });

export const onUnmatchSchema = z.enum(['keep', 'remove'], { error: 'must be keep or remove' });

export const ruleSpecSchema = z.strictObject({
  name: planNameSchema,
  priority,
  match: ruleMatchSchema,
  disks: ruleDisksSchema.default('all'),
  plan: planSpecSchema,
  onUnmatch: onUnmatchSchema.default('keep'),
});

/** Any subset; `plan` replaces the whole plan body and is applied to the plans the rule made. */
export const rulePatchSchema = z.strictObject({
  name: planNameSchema.optional(),
  priority: priority.optional(),
  match: ruleMatchSchema.optional(),
  disks: ruleDisksSchema.optional(),
  plan: planSpecSchema.optional(),
  onUnmatch: onUnmatchSchema.optional(),
});

export type RuleSpec = z.output<typeof ruleSpecSchema>;
export type RulePatch = z.output<typeof rulePatchSchema>;

export interface RuleConflict {
  instanceId: string;
  /** `won`: this rule protects it over others; `lost`: a higher rule does; `by-hand`: it was protected by hand. */
  outcome: 'won' | 'lost' | 'by-hand';
  /** The other rules that match it (for `lost`, the winner first). */
  otherRuleIds: string[];
}

export interface RuleStatus {
  reconciledAt: number | null;
  /** Instances matching the rule at the last reconciliation. */
  matched: number;
  /** Instances the rule protects. */
  protected: number;
  conflictCount: number;
  conflicts: RuleConflict[];
  /** Why the last reconciliation changed nothing (ECS unreachable ...); null when it ran. */
  error: string | null;
}

export interface ProtectionRule {
  id: string;
  name: string;
  priority: number;
  match: RuleMatch;
  disks: 'all';
  plan: PlanSpec;
  onUnmatch: 'keep' | 'remove';
  /** Raised when `plan` or `disks` change; the plans the rule made catch up with it. */
  revision: number;
  /** DELETING: matches nothing; its instances are released (plans kept), then the rule is gone. */
  state: 'ACTIVE' | 'DELETING';
  status: RuleStatus;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export function emptyRuleStatus(): RuleStatus {
  return { reconciledAt: null, matched: 0, protected: 0, conflictCount: 0, conflicts: [], error: null };
}

/** What reconciliation needs to know of an ECS instance. */
export interface FleetInstance {
  instanceId: string;
  zoneId: string;
  osType: OsType;
  tags: { key: string; value: string }[];
}

/** True when the instance carries every tag of the rule and is in its zones and OS. */
export function ruleMatches(match: RuleMatch, instance: FleetInstance): boolean {
  if (match.zoneIds !== undefined && !match.zoneIds.includes(instance.zoneId)) return false;
  if (match.osType !== undefined && match.osType !== instance.osType) return false;
  return Object.entries(match.tags).every(([key, value]) =>
    instance.tags.some((t) => t.key === key && t.value === value),
  );
}

/** Highest priority first; equal priorities: the older rule, then the smaller id. */
export function byPrecedence(a: ProtectionRule, b: ProtectionRule): number {
  return b.priority - a.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export type RuleAction =
  /** Not protected: protect it with the rule's plan. */
  | { kind: 'protect'; ruleId: string; instanceId: string }
  /** Owned by another rule that lost it (or no longer matches): the winner's plan replaces that one. */
  | { kind: 'rebind'; ruleId: string; fromRuleId: string; instanceId: string }
  /** Owned and matching: its plan exists and follows the rule's revision. */
  | { kind: 'keep'; ruleId: string; instanceId: string }
  /** Owned and matched by no rule any more: the plan goes (`remove`) or stays (`keep`), backups stay. */
  | { kind: 'release'; ruleId: string; instanceId: string; removePlan: boolean };

export interface ReconcileInput {
  /** Every rule, ACTIVE and DELETING. */
  rules: ProtectionRule[];
  /** Per ACTIVE rule id, the instances that match it now (the full list). */
  matches: ReadonlyMap<string, FleetInstance[]>;
  /** Protected-instance rows of every matching instance and of every instance a rule owns. */
  protections: ReadonlyMap<string, ProtectedInstance>;
}

export type RuleTally = Omit<RuleStatus, 'reconciledAt' | 'error'>;

export interface ReconcileDecision {
  actions: RuleAction[];
  /** Per rule id. */
  status: Map<string, RuleTally>;
}

/**
 * What one reconciliation does, from a consistent reading of ECS and the store. Pure: the same
 * reading gives the same actions, so a retried tick (or a preview) decides the same thing.
 */
export function decideReconciliation(input: ReconcileInput): ReconcileDecision {
  const active = input.rules.filter((r) => r.state === 'ACTIVE').sort(byPrecedence);
  const rulesById = new Map(input.rules.map((r) => [r.id, r]));
  const matchersOf = new Map<string, ProtectionRule[]>();
  for (const rule of active) {
    for (const instance of input.matches.get(rule.id) ?? []) {
      const list = matchersOf.get(instance.instanceId) ?? [];
      list.push(rule);
      matchersOf.set(instance.instanceId, list);
    }
  }
  const status = new Map<string, RuleTally>(
    input.rules.map((r) => [r.id, { matched: 0, protected: 0, conflictCount: 0, conflicts: [] }]),
  );
  const tally = (ruleId: string) => status.get(ruleId) as RuleTally;
  const conflict = (ruleId: string, c: RuleConflict) => {
    const s = status.get(ruleId);
    if (s === undefined) return;
    s.conflictCount += 1;
    if (s.conflicts.length < MAX_STATUS_CONFLICTS) s.conflicts.push(c);
  };
  const actions: RuleAction[] = [];
  for (const [instanceId, matchers] of [...matchersOf].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // `active` was sorted, and matchers were pushed in that order: the first one wins.
    const winner = matchers[0] as ProtectionRule;
    const others = matchers.slice(1).map((r) => r.id);
    for (const r of matchers) tally(r.id).matched += 1;
    const row = input.protections.get(instanceId);
    if (row !== undefined && row.ruleId === undefined) {
      conflict(winner.id, { instanceId, outcome: 'by-hand', otherRuleIds: others });
      continue;
    }
    if (others.length > 0) {
      conflict(winner.id, { instanceId, outcome: 'won', otherRuleIds: others });
      for (const id of others) {
        conflict(id, {
          instanceId,
          outcome: 'lost',
          otherRuleIds: [winner.id, ...others.filter((o) => o !== id)],
        });
      }
    }
    tally(winner.id).protected += 1;
    if (row === undefined) actions.push({ kind: 'protect', ruleId: winner.id, instanceId });
    else if (row.ruleId === winner.id) actions.push({ kind: 'keep', ruleId: winner.id, instanceId });
    else actions.push({ kind: 'rebind', ruleId: winner.id, fromRuleId: row.ruleId as string, instanceId });
  }
  for (const row of [...input.protections.values()].sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1))) {
    if (row.ruleId === undefined || matchersOf.has(row.instanceId)) continue;
    const owner = rulesById.get(row.ruleId);
    // A rule gone or being deleted releases its instances with their plans: no backup stops silently.
    const removePlan = owner !== undefined && owner.state === 'ACTIVE' && owner.onUnmatch === 'remove';
    actions.push({ kind: 'release', ruleId: row.ruleId, instanceId: row.instanceId, removePlan });
  }
  return { actions, status };
}

/** The name of the plan a rule makes for one instance (a valid ECS name, at most 128 characters). */
export function rulePlanName(rule: Pick<ProtectionRule, 'name' | 'plan'>, instanceId: string): string {
  return rule.plan.name ?? `${rule.name}-${instanceId}`.slice(0, 128);
}
