import { afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../../lib/domain/model.js';
import type { Deps } from '../../../lib/usecases/deps.js';
import { reconcileProtectionRules } from '../../../lib/usecases/protection-rules/reconcile.js';
import { createRule } from '../../../lib/usecases/protection-rules/rules.js';
import { harness, type Harness } from './harness.js';
import { rulePlan } from './rule-fixtures.js';

/**
 * Reconciliation dies after each of its writes (every store write and queue send it makes, in a
 * run that protects, takes over, releases and removes at once); the next reconciliations finish the
 * work. Whatever the point, no instance ends with two plans, no plan is left without its instance,
 * and every instance ends as the rules say. The points reached are checked against a clean run.
 */

class Died extends Error {}

const WRITES = new Set(['create', 'createMany', 'update', 'delete', 'put', 'send']);

/** Deps whose store and queue die after the `at`-th write: that write lands, nothing after it does. */
function dyingAfter(deps: Deps, at: number): { deps: Deps; writes: () => number; died: () => boolean } {
  let n = 0;
  let dead = false;
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(obj, key) {
        const value = Reflect.get(obj, key) as unknown;
        if (typeof value !== 'function') return value;
        if (!WRITES.has(String(key))) return (value as (...a: unknown[]) => unknown).bind(obj);
        return async (...args: unknown[]) => {
          if (dead) throw new Died('the process is gone');
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
          n += 1;
          if (n === at) {
            dead = true;
            throw new Died(`died after write ${at}`);
          }
          return result;
        };
      },
    });
  const store = new Proxy(deps.store, {
    get(obj, key) {
      const value = Reflect.get(obj, key) as unknown;
      if (typeof value === 'function') return (value as (...a: unknown[]) => unknown).bind(obj);
      return value !== null && typeof value === 'object' ? wrap(value) : value;
    },
  });
  return {
    deps: { ...deps, store, jobQueue: wrap(deps.jobQueue) },
    writes: () => n,
    died: () => dead,
  };
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/**
 * Three instances protected by rule `low` (onUnmatch remove); then a higher rule claims the first,
 * the third loses its tag, and a fourth and a fifth gain it (protected together, in one batch).
 * Returns the ids.
 */
async function scenario() {
  h = harness();
  const tag = (id: string, tags: Record<string, string>) => {
    h!.ecs.instances.get(id)!.tags = Object.entries(tags).map(([key, value]) => ({ key, value }));
  };
  const ids = [0, 1, 2, 3, 4].map(() => h!.ecs.addInstance().instanceId) as [
    string,
    string,
    string,
    string,
    string,
  ];
  for (const id of ids.slice(0, 3)) tag(id, { env: 'prod' });
  const low = await createRule(h.deps, {
    name: 'low',
    priority: 1,
    match: { tags: { env: 'prod' } },
    disks: 'all',
    plan: rulePlan,
    onUnmatch: 'remove',
  });
  if (!low.ok) throw new Error('rule refused');
  await reconcileProtectionRules(h.deps);
  const high = await createRule(h.deps, {
    name: 'high',
    priority: 9,
    match: { tags: { app: 'web' } },
    disks: 'all',
    plan: rulePlan,
    onUnmatch: 'keep',
  });
  if (!high.ok) throw new Error('rule refused');
  tag(ids[0], { env: 'prod', app: 'web' });
  tag(ids[2], {});
  tag(ids[3], { env: 'prod' });
  tag(ids[4], { env: 'prod' });
  return { ids, low: low.value.id, high: high.value.id };
}

async function allPlans(deps: Deps): Promise<Plan[]> {
  return (await deps.store.plans.list({}, { limit: 1000 })).items;
}

async function expectConverged(deps: Deps, s: Awaited<ReturnType<typeof scenario>>): Promise<void> {
  const [web, db, gone, late, later] = s.ids;
  const owners = await Promise.all([web, db, gone, late, later].map((id) => deps.store.instances.get(id)));
  expect(owners.map((o) => o?.ruleId ?? null)).toEqual([s.high, s.low, null, s.low, s.low]);
  expect(owners[2]).toBeUndefined();
  const plans = await allPlans(deps);
  // One plan per protected instance, the one its row names, and no plan of anyone else.
  expect(plans.map((p) => p.instanceId).sort()).toEqual([web, db, late, later].sort());
  for (const row of [owners[0], owners[1], owners[3], owners[4]]) {
    expect(plans.find((p) => p.instanceId === row?.instanceId)?.id).toBe(row?.planId);
  }
}

describe('reconciliation crashed after each write', () => {
  it('converges to one plan per instance from every crash point, and every point was reached', async () => {
    // A clean run counts the writes: the crash points.
    const clean = await scenario();
    const counting = dyingAfter(h!.deps, Number.POSITIVE_INFINITY);
    const report = await reconcileProtectionRules(counting.deps);
    expect(report).toMatchObject({ protected: 2, rebound: 1, released: 1, failed: 0 });
    await expectConverged(h!.deps, clean);
    const points = counting.writes();
    expect(points).toBeGreaterThan(8);
    await h!.close();
    h = undefined;

    const reached: number[] = [];
    for (let at = 1; at <= points; at += 1) {
      const s = await scenario();
      const dying = dyingAfter(h!.deps, at);
      await reconcileProtectionRules(dying.deps).catch(() => undefined);
      if (dying.died()) reached.push(at);
      await reconcileProtectionRules(h!.deps);
      await reconcileProtectionRules(h!.deps);
      await expectConverged(h!.deps, s);
      await h!.close();
      h = undefined;
    }
    expect(reached).toEqual(Array.from({ length: points }, (_, i) => i + 1));
  }, 120_000);
});
