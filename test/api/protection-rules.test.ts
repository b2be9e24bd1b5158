import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reconcileProtectionRules } from '../../lib/usecases/protection-rules/reconcile.js';
import { allPlansOf } from '../../lib/usecases/management/protect.js';
import { ecsSdkClient, tagInstance, untagInstance, type EcsSdkClient } from '../support/ecs-sdk.js';
import { aPoint, dailyPlan } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

/**
 * Protection rules over HTTP, reconciled against the ECS emulator through the real adapter (tag
 * filters, NextToken paging) and changed the way an operator changes the cloud: tags added and
 * removed with the official SDK.
 */

const WEB = 'i-fleetweb1';
const DB = 'i-fleetdb01';
const WIN = 'i-fleetwin1';
const HAND = 'i-fleethand';
const OTHER = 'i-fleetdev1';
const disk = (id: string) => [
  { diskId: `d-${id.slice(2)}`, type: 'system' as const, category: 'cloud_essd' },
];

let h: Harness;
let sdk: EcsSdkClient;

beforeEach(async () => {
  h = await startHarness({
    seed: {
      instances: [
        { instanceId: WEB, tags: { env: 'prod', app: 'web' }, disks: disk(WEB) },
        { instanceId: DB, tags: { env: 'prod', app: 'db' }, disks: disk(DB) },
        { instanceId: WIN, osType: 'windows', tags: { env: 'prod' }, disks: disk(WIN) },
        { instanceId: HAND, tags: { env: 'prod' }, disks: disk(HAND) },
        { instanceId: OTHER, tags: { env: 'dev' }, disks: disk(OTHER) },
      ],
    },
  });
  sdk = ecsSdkClient(h.emulator);
}, 60_000);
afterEach(async () => h?.close());

const prodRule = (over: Record<string, unknown> = {}) => ({
  name: 'prod-linux',
  priority: 10,
  match: { tags: { env: 'prod' }, osType: 'linux' },
  plan: dailyPlan,
  ...over,
});

async function createRule(body: Record<string, unknown>): Promise<string> {
  const r = await h.call('POST', '/api/v1/protection-rules', { body });
  expect(r.status, r.text).toBe(201);
  return r.body.id as string;
}

async function protectByHand(instanceId: string): Promise<string> {
  const r = await h.call('POST', '/api/v1/protected-instances', { body: { instanceId, plan: dailyPlan } });
  expect(r.status, r.text).toBe(201);
  return r.body.plan.id as string;
}

describe('protection rules: input', () => {
  it.each([
    ['an empty tag match', prodRule({ match: { tags: {} } }), 'match.tags'],
    ['no match at all', prodRule({ match: undefined }), 'match'],
    ['a plan without retention', prodRule({ plan: { schedule: dailyPlan.schedule } }), 'plan.retention'],
    [
      'a plan start time without an offset',
      prodRule({
        plan: { ...dailyPlan, schedule: { ...dailyPlan.schedule, startAt: '2026-12-01T02:00:00' } },
      }),
      'plan.schedule.startAt',
    ],
    ['a list of disks', prodRule({ disks: ['d-abcd1234'] }), 'disks'],
    ['priority 0', prodRule({ priority: 0 }), 'priority'],
    ['a reserved tag key', prodRule({ match: { tags: { 'aliyun:x': 'y' } } }), 'match.tags.aliyun:x'],
    ['an unknown onUnmatch', prodRule({ onUnmatch: 'drop' }), 'onUnmatch'],
  ])('%s: a 400 naming the field, nothing stored', async (_name, body, field) => {
    const before = h.dump();
    const r = await h.call('POST', '/api/v1/protection-rules', { body });
    expect(r.status, r.text).toBe(400);
    expect(r.headers['content-type']).toBe('application/problem+json');
    expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(field);
    expect(h.dump()).toEqual(before);
  });

  it('a duplicate priority is a 400 naming priority, on create and on change', async () => {
    const first = await createRule(prodRule());
    const second = await createRule(prodRule({ name: 'prod-db', priority: 20 }));
    const before = h.dump();
    const dup = await h.call('POST', '/api/v1/protection-rules', { body: prodRule({ name: 'again' }) });
    expect(dup.status).toBe(400);
    expect(dup.body.errors).toEqual([{ path: 'priority', message: expect.stringContaining(first) }]);
    const patched = await h.call('PATCH', `/api/v1/protection-rules/${second}`, { body: { priority: 10 } });
    expect(patched.status).toBe(400);
    expect(patched.body.errors[0].path).toBe('priority');
    expect(h.dump()).toEqual(before);
  });
});

describe('protection rules: reconciliation against the emulator', () => {
  it('protects every match within one reconciliation, never takes over one protected by hand, and is idempotent', async () => {
    const handPlan = await protectByHand(HAND);
    const ruleId = await createRule(prodRule());
    const report = await reconcileProtectionRules(h.deps);
    expect(report).toMatchObject({ matched: 3, protected: 2, failed: 0 });
    for (const id of [WEB, DB]) {
      const row = await h.store.instances.get(id);
      expect(row).toMatchObject({ ruleId, ruleRevision: 1 });
      const plans = await allPlansOf(h.deps, id);
      expect(plans.map((p) => p.id)).toEqual([row?.planId]);
      expect(plans[0]).toMatchObject({
        name: dailyPlan.name,
        retention: dailyPlan.retention,
        state: 'ACTIVE',
      });
    }
    // Protected by hand: untouched, and reported on the rule.
    expect(await h.store.instances.get(HAND)).toMatchObject({ planId: handPlan });
    expect((await h.store.instances.get(HAND))?.ruleId).toBeUndefined();
    expect((await allPlansOf(h.deps, HAND)).map((p) => p.id)).toEqual([handPlan]);
    expect(await h.store.instances.get(WIN)).toBeUndefined();
    const rule = (await h.call('GET', `/api/v1/protection-rules/${ruleId}`)).body;
    expect(rule.status).toMatchObject({
      matched: 3,
      protected: 2,
      conflictCount: 1,
      conflicts: [{ instanceId: HAND, outcome: 'by-hand', otherRuleIds: [] }],
      error: null,
    });
    // A second reconciliation changes nothing.
    const before = h.dump();
    h.clock.advance(1000);
    const again = await reconcileProtectionRules(h.deps);
    expect(again).toMatchObject({ protected: 0, rebound: 0, released: 0, updated: 0 });
    const after = h.dump();
    expect(after.plans).toEqual(before.plans);
    expect(after.instances).toEqual(before.instances);
  });

  it('a tag added later is protected at the next reconciliation; removed, the plan stays (keep) and the backups stay', async () => {
    const ruleId = await createRule(prodRule({ match: { tags: { backup: 'gold' } } }));
    await reconcileProtectionRules(h.deps);
    expect(await h.store.instances.get(OTHER)).toBeUndefined();
    await tagInstance(sdk, h.emulator, OTHER, { backup: 'gold' });
    await reconcileProtectionRules(h.deps);
    const row = await h.store.instances.get(OTHER);
    expect(row).toMatchObject({ ruleId });
    await h.store.points.create(aPoint({ id: 'pt-fleet-1', instanceId: OTHER, planId: row?.planId ?? null }));

    await untagInstance(sdk, h.emulator, OTHER, ['backup']);
    const report = await reconcileProtectionRules(h.deps);
    expect(report.released).toBe(1);
    const kept = await h.store.instances.get(OTHER);
    expect(kept?.planId).toBe(row?.planId);
    expect(kept?.ruleId).toBeUndefined();
    expect(await h.store.plans.get(row?.planId as string)).toBeDefined();
    expect((await h.store.points.get('pt-fleet-1'))?.status).toBe('AVAILABLE');
    // Released: the instance is now as if protected by hand, and a rule matching it again leaves it alone.
    await tagInstance(sdk, h.emulator, OTHER, { backup: 'gold' });
    await reconcileProtectionRules(h.deps);
    expect((await h.store.instances.get(OTHER))?.ruleId).toBeUndefined();
  });

  it('onUnmatch remove: the plan and the protection go, the backups stay, and protection.changed says so', async () => {
    const sub = await h.call('POST', '/api/v1/subscriptions', {
      body: { url: 'https://hooks.example.com/fleet', events: ['protection.changed'] },
    });
    expect(sub.status).toBe(201);
    const ruleId = await createRule(prodRule({ match: { tags: { app: 'web' } }, onUnmatch: 'remove' }));
    await reconcileProtectionRules(h.deps);
    const row = await h.store.instances.get(WEB);
    await h.store.points.create(aPoint({ id: 'pt-fleet-2', instanceId: WEB, planId: row?.planId ?? null }));
    await untagInstance(sdk, h.emulator, WEB, ['app']);
    await reconcileProtectionRules(h.deps);
    expect(await h.store.instances.get(WEB)).toBeUndefined();
    expect(await h.store.plans.get(row?.planId as string)).toBeUndefined();
    expect((await h.store.points.get('pt-fleet-2'))?.status).toBe('AVAILABLE');
    const deliveries = (await h.call('GET', `/api/v1/subscriptions/${sub.body.id}/deliveries`)).body.items;
    const changes = deliveries.map((d: { event: { data: Record<string, unknown> } }) => d.event.data);
    expect(changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ instanceId: WEB, change: 'protected', by: `rule:${ruleId}` }),
        expect.objectContaining({ instanceId: WEB, change: 'unprotected', by: `rule:${ruleId}` }),
      ]),
    );
    expect(changes).toHaveLength(2);
  });

  it('two rules on one instance: the larger priority wins, both report it, and raising the other moves it with one plan', async () => {
    const low = await createRule(
      prodRule({ name: 'prod-all', priority: 5, match: { tags: { env: 'prod' } } }),
    );
    const high = await createRule(
      prodRule({ name: 'web-only', priority: 50, match: { tags: { app: 'web' } } }),
    );
    await reconcileProtectionRules(h.deps);
    expect((await h.store.instances.get(WEB))?.ruleId).toBe(high);
    expect((await h.store.instances.get(DB))?.ruleId).toBe(low);
    const lowView = (await h.call('GET', `/api/v1/protection-rules/${low}`)).body;
    expect(lowView.status.conflicts).toContainEqual({
      instanceId: WEB,
      outcome: 'lost',
      otherRuleIds: [high],
    });
    const highView = (await h.call('GET', `/api/v1/protection-rules/${high}`)).body;
    expect(highView.status.conflicts).toEqual([{ instanceId: WEB, outcome: 'won', otherRuleIds: [low] }]);

    const oldPlan = (await h.store.instances.get(WEB))?.planId as string;
    const preview = await h.call('GET', `/api/v1/protection-rules/${low}/preview`);
    expect(preview.body.rows).toContainEqual({ instanceId: DB, action: 'keep', otherRuleId: null });
    expect(preview.body.rows).not.toContainEqual(expect.objectContaining({ instanceId: WEB }));

    expect(
      (await h.call('PATCH', `/api/v1/protection-rules/${low}`, { body: { priority: 90 } })).status,
    ).toBe(200);
    const before = h.dump();
    const moving = await h.call('GET', `/api/v1/protection-rules/${low}/preview`);
    expect(moving.body.rows).toContainEqual({ instanceId: WEB, action: 'take-over', otherRuleId: high });
    expect(h.dump()).toEqual(before);
    const report = await reconcileProtectionRules(h.deps);
    expect(report.rebound).toBe(1);
    const moved = await h.store.instances.get(WEB);
    expect(moved?.ruleId).toBe(low);
    const plans = await allPlansOf(h.deps, WEB);
    expect(plans.map((p) => p.id)).toEqual([moved?.planId]);
    expect(moved?.planId).not.toBe(oldPlan);
  });

  it('a changed plan reaches the plans the rule made; deleting the rule releases them with their plans', async () => {
    const ruleId = await createRule(prodRule());
    await reconcileProtectionRules(h.deps);
    const patched = await h.call('PATCH', `/api/v1/protection-rules/${ruleId}`, {
      body: { plan: { ...dailyPlan, retention: { value: 7, unit: 'days' } } },
    });
    expect(patched.body.revision).toBe(2);
    const report = await reconcileProtectionRules(h.deps);
    expect(report.updated).toBe(3);
    for (const id of [WEB, DB, HAND]) {
      const row = await h.store.instances.get(id);
      expect(row?.ruleRevision).toBe(2);
      expect((await h.store.plans.get(row?.planId as string))?.retention).toEqual({ value: 7, unit: 'days' });
    }
    const deleted = await h.call('DELETE', `/api/v1/protection-rules/${ruleId}`);
    expect(deleted.body.state).toBe('DELETING');
    expect(
      (await h.call('PATCH', `/api/v1/protection-rules/${ruleId}`, { body: { priority: 3 } })).status,
    ).toBe(409);
    await reconcileProtectionRules(h.deps);
    for (const id of [WEB, DB, HAND]) {
      const row = await h.store.instances.get(id);
      expect(row?.ruleId).toBeUndefined();
      expect(await h.store.plans.get(row?.planId as string)).toBeDefined();
    }
    await reconcileProtectionRules(h.deps);
    expect((await h.call('GET', `/api/v1/protection-rules/${ruleId}`)).status).toBe(404);
  });

  it('is declarative: a plan deleted or a protection stopped by hand comes back while the rule matches', async () => {
    const ruleId = await createRule(prodRule({ match: { tags: { app: 'web' } } }));
    await reconcileProtectionRules(h.deps);
    const first = (await h.store.instances.get(WEB))?.planId as string;
    expect((await h.call('DELETE', `/api/v1/plans/${first}`)).status).toBe(204);
    await reconcileProtectionRules(h.deps);
    const second = await h.store.instances.get(WEB);
    expect(second).toMatchObject({ ruleId });
    expect(second?.planId).not.toBe(first);
    expect((await allPlansOf(h.deps, WEB)).map((p) => p.id)).toEqual([second?.planId]);
    expect((await h.call('DELETE', `/api/v1/protected-instances/${WEB}`)).status).toBe(200);
    await reconcileProtectionRules(h.deps);
    const third = (await h.call('GET', `/api/v1/protected-instances/${WEB}`)).body;
    expect(third).toMatchObject({ ruleId, plan: { instanceId: WEB } });
    expect((await allPlansOf(h.deps, WEB)).map((p) => p.id)).toEqual([third.planId]);
  });

  it('ECS failing the listing changes nothing and says so on the rule', async () => {
    const ruleId = await createRule(prodRule());
    await h.emulator.admin.failNext({ action: 'DescribeInstances', code: 'InternalError', count: 10 });
    const before = h.dump();
    const report = await reconcileProtectionRules(h.deps);
    expect(report.error).toBeDefined();
    const after = h.dump();
    expect(after.instances).toEqual(before.instances);
    expect(after.plans).toEqual(before.plans);
    const rule = (await h.call('GET', `/api/v1/protection-rules/${ruleId}`)).body;
    expect(rule.status.error).toMatch(/^not reconciled: /);
    await h.emulator.admin.clearFaults();
    expect((await reconcileProtectionRules(h.deps)).protected).toBe(3);
  });
});
