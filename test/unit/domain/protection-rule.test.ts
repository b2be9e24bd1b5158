import { describe, expect, it } from 'vitest';
import type { ProtectedInstance } from '../../../lib/domain/model.js';
import {
  decideReconciliation,
  emptyRuleStatus,
  ruleMatches,
  ruleSpecSchema,
  type FleetInstance,
  type ProtectionRule,
  type RuleAction,
} from '../../../lib/domain/protection-rule.js';

const T0 = Date.UTC(2026, 5, 1);

function rule(id: string, priority: number, over: Partial<ProtectionRule> = {}): ProtectionRule {
  return {
    id,
    name: id,
    priority,
    match: { tags: { env: 'prod' } },
    disks: 'all',
    plan: ruleSpecSchema.shape.plan.parse({ retention: { value: 7, unit: 'days' } }),
    onUnmatch: 'keep',
    revision: 1,
    state: 'ACTIVE',
    status: emptyRuleStatus(),
    createdAt: T0,
    updatedAt: T0,
    version: 1,
    ...over,
  };
}

const vm = (instanceId: string, tags: Record<string, string> = {}, over: Partial<FleetInstance> = {}) => ({
  instanceId,
  zoneId: 'cn-hangzhou-h',
  osType: 'linux' as const,
  tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
  ...over,
});

const row = (instanceId: string, ruleId?: string): ProtectedInstance => ({
  instanceId,
  disks: 'all',
  planId: `plan-${instanceId}`,
  createdAt: T0,
  updatedAt: T0,
  version: 1,
  ...(ruleId === undefined ? {} : { ruleId, ruleRevision: 1 }),
});

function decide(
  rules: ProtectionRule[],
  matches: Record<string, string[]>,
  rows: ProtectedInstance[],
): RuleAction[] {
  return decideReconciliation({
    rules,
    matches: new Map(Object.entries(matches).map(([id, list]) => [id, list.map((i) => vm(i))])),
    protections: new Map(rows.map((r) => [r.instanceId, r])),
  }).actions;
}

describe('ruleMatches', () => {
  it.each([
    [
      'every tag present',
      { tags: { env: 'prod', app: 'web' } },
      vm('i-1', { env: 'prod', app: 'web', x: '1' }),
      true,
    ],
    ['one tag value differs', { tags: { env: 'prod' } }, vm('i-1', { env: 'dev' }), false],
    ['a tag missing', { tags: { env: 'prod', app: 'web' } }, vm('i-1', { env: 'prod' }), false],
    [
      'outside the zones',
      { tags: { env: 'prod' }, zoneIds: ['cn-hangzhou-i'] },
      vm('i-1', { env: 'prod' }),
      false,
    ],
    [
      'in one of the zones',
      { tags: { env: 'prod' }, zoneIds: ['cn-hangzhou-i', 'cn-hangzhou-h'] },
      vm('i-1', { env: 'prod' }),
      true,
    ],
    ['another OS', { tags: { env: 'prod' }, osType: 'windows' as const }, vm('i-1', { env: 'prod' }), false],
  ])('%s', (_name, match, instance, expected) => {
    expect(ruleMatches(match, instance)).toBe(expected);
  });
});

describe('decideReconciliation', () => {
  it.each<[string, ProtectionRule[], Record<string, string[]>, ProtectedInstance[], RuleAction[]]>([
    [
      'a match not protected is protected',
      [rule('r1', 1)],
      { r1: ['i-1'] },
      [],
      [{ kind: 'protect', ruleId: 'r1', instanceId: 'i-1' }],
    ],
    ['a match protected by hand is left alone', [rule('r1', 1)], { r1: ['i-1'] }, [row('i-1')], []],
    [
      'an owned match is kept',
      [rule('r1', 1)],
      { r1: ['i-1'] },
      [row('i-1', 'r1')],
      [{ kind: 'keep', ruleId: 'r1', instanceId: 'i-1' }],
    ],
    [
      'two rules: the larger priority protects',
      [rule('r1', 1), rule('r2', 5)],
      { r1: ['i-1'], r2: ['i-1'] },
      [],
      [{ kind: 'protect', ruleId: 'r2', instanceId: 'i-1' }],
    ],
    [
      'equal priorities: the older rule protects',
      [rule('r1', 3, { createdAt: T0 + 1 }), rule('r2', 3)],
      { r1: ['i-1'], r2: ['i-1'] },
      [],
      [{ kind: 'protect', ruleId: 'r2', instanceId: 'i-1' }],
    ],
    [
      'held by a lower rule: the higher takes it over',
      [rule('r1', 1), rule('r2', 5)],
      { r1: ['i-1'], r2: ['i-1'] },
      [row('i-1', 'r1')],
      [{ kind: 'rebind', ruleId: 'r2', fromRuleId: 'r1', instanceId: 'i-1' }],
    ],
    [
      'held by a rule that no longer matches, matched by another: moved',
      [rule('r1', 9), rule('r2', 1)],
      { r1: [], r2: ['i-1'] },
      [row('i-1', 'r1')],
      [{ kind: 'rebind', ruleId: 'r2', fromRuleId: 'r1', instanceId: 'i-1' }],
    ],
    [
      'no longer matched, keep: released with its plan',
      [rule('r1', 1)],
      { r1: [] },
      [row('i-1', 'r1')],
      [{ kind: 'release', ruleId: 'r1', instanceId: 'i-1', removePlan: false }],
    ],
    [
      'no longer matched, remove: released without its plan',
      [rule('r1', 1, { onUnmatch: 'remove' })],
      { r1: [] },
      [row('i-1', 'r1')],
      [{ kind: 'release', ruleId: 'r1', instanceId: 'i-1', removePlan: true }],
    ],
    [
      'a rule being deleted matches nothing and keeps the plans',
      [rule('r1', 1, { onUnmatch: 'remove', state: 'DELETING' })],
      { r1: ['i-1'] },
      [row('i-1', 'r1')],
      [{ kind: 'release', ruleId: 'r1', instanceId: 'i-1', removePlan: false }],
    ],
    [
      'a rule gone: its instances are released with their plans',
      [],
      {},
      [row('i-1', 'r-gone')],
      [{ kind: 'release', ruleId: 'r-gone', instanceId: 'i-1', removePlan: false }],
    ],
  ])('%s', (_name, rules, matches, rows, expected) => {
    expect(decide(rules, matches, rows)).toEqual(expected);
  });

  it('reports a conflict on every rule that matches, and counts past the listed ones', () => {
    const ids = Array.from({ length: 60 }, (_, i) => `i-${String(i).padStart(3, '0')}`);
    const decision = decideReconciliation({
      rules: [rule('r1', 1), rule('r2', 5)],
      matches: new Map([
        ['r1', ids.map((i) => vm(i))],
        ['r2', [vm('i-000')]],
      ]),
      protections: new Map([['i-001', row('i-001')]]),
    });
    const r1 = decision.status.get('r1')!;
    const r2 = decision.status.get('r2')!;
    expect(r2).toMatchObject({ matched: 1, protected: 1, conflictCount: 1 });
    expect(r2.conflicts).toEqual([{ instanceId: 'i-000', outcome: 'won', otherRuleIds: ['r1'] }]);
    expect(r1).toMatchObject({ matched: 60, protected: 58, conflictCount: 2 });
    expect(r1.conflicts).toEqual([
      { instanceId: 'i-000', outcome: 'lost', otherRuleIds: ['r2'] },
      { instanceId: 'i-001', outcome: 'by-hand', otherRuleIds: [] },
    ]);
    // Never two protections of one instance.
    const targets = decision.actions.filter((a) => a.kind !== 'release').map((a) => a.instanceId);
    expect(new Set(targets).size).toBe(targets.length);
  });
});
