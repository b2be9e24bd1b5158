import { afterEach, describe, expect, it } from 'vitest';
import type { Deps } from '../../../lib/usecases/deps.js';
import { reconcileProtectionRules } from '../../../lib/usecases/protection-rules/reconcile.js';
import { createRule } from '../../../lib/usecases/protection-rules/rules.js';
import { harness, type Harness } from './harness.js';
import { rulePlan } from './rule-fixtures.js';

/**
 * Store calls of one reconciliation, counted per collection and method: a tick over thousands of
 * instances must read in batches, not once per instance, and a steady tick must write nothing but
 * the rule's status. Counted at two fleet sizes, so a per-instance call shows as a difference.
 */

/** Deps whose store counts every call as `collection.method`. */
function counting(deps: Deps): { deps: Deps; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const store = new Proxy(deps.store, {
    get(obj, collection) {
      const target = Reflect.get(obj, collection) as unknown;
      if (typeof target === 'function') return (target as (...a: unknown[]) => unknown).bind(obj);
      if (target === null || typeof target !== 'object') return target;
      return new Proxy(target, {
        get(inner, method) {
          const value = Reflect.get(inner, method) as unknown;
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            const key = `${String(collection)}.${String(method)}`;
            calls.set(key, (calls.get(key) ?? 0) + 1);
            return (value as (...a: unknown[]) => unknown).apply(inner, args);
          };
        },
      });
    },
  });
  return { deps: { ...deps, store }, calls };
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Store calls of the first (protecting) and a steady reconciliation over `n` tagged instances. */
async function callsFor(n: number) {
  h = harness();
  for (let i = 0; i < n; i += 1) {
    const { instanceId } = h.ecs.addInstance({ categories: ['cloud_essd'] });
    h.ecs.instances.get(instanceId)!.tags = [{ key: 'env', value: 'prod' }];
  }
  const rule = await createRule(h.deps, {
    name: 'prod',
    priority: 1,
    match: { tags: { env: 'prod' } },
    disks: 'all',
    plan: rulePlan,
    onUnmatch: 'keep',
  });
  if (!rule.ok) throw new Error('rule refused');
  const first = counting(h.deps);
  expect(await reconcileProtectionRules(first.deps)).toMatchObject({ protected: n, failed: 0 });
  h.clock.advance(1000);
  const steady = counting(h.deps);
  expect(await reconcileProtectionRules(steady.deps)).toMatchObject({
    matched: n,
    protected: 0,
    updated: 0,
    failed: 0,
  });
  await h.close();
  h = undefined;
  return { first: Object.fromEntries(first.calls), steady: Object.fromEntries(steady.calls) };
}

describe('protection rules: store calls per reconciliation', () => {
  it('a steady tick makes the same few batched calls for 20 and for 600 instances, and one write', async () => {
    const small = await callsFor(20);
    const large = await callsFor(600);
    expect(large.steady).toEqual(small.steady);
    // The plans are checked for presence without reading a document; the one write is the status.
    expect(large.steady).toEqual({
      'protectionRules.list': 1,
      'instances.listByRule': 1,
      'instances.getMany': 1,
      'plans.existing': 1,
      'protectionRules.update': 1,
    });
  });

  it('the protecting tick claims rows and creates plans 500 at a write, and reads the subscriptions once', async () => {
    const small = await callsFor(20);
    const large = await callsFor(600);
    expect(small.first['subscriptions.list']).toBe(1);
    expect(large.first['subscriptions.list']).toBe(1);
    expect(small.first['instances.createMany']).toBe(1);
    expect(small.first['plans.createMany']).toBe(1);
    expect(large.first['instances.createMany']).toBe(2);
    expect(large.first['plans.createMany']).toBe(2);
    expect(large.first['instances.create'] ?? 0).toBe(0);
    expect(large.first['plans.create'] ?? 0).toBe(0);
    expect(large.first['instances.get'] ?? 0).toBe(0);
  });
});
