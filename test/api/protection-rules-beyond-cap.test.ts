import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileProtectionRules } from '../../lib/usecases/protection-rules/reconcile.js';
import { ecsSdkClient, tagInstance } from '../support/ecs-sdk.js';
import { dailyPlan } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

/**
 * A rule whose tag matches more instances than a tag-filtered DescribeInstances answers (1,000):
 * reconciliation still protects every one, through ListTagResources, against the emulator that caps
 * the filter as ECS documents it.
 */

const MATCHING = 1030;

let h: Harness;
let prod: string[] = [];
let dev: string[] = [];

beforeAll(async () => {
  h = await startHarness({});
  const seed = (instances: number, tags: Record<string, string>) =>
    h.emulator.admin.bulkSeed({ instances, snapshots: 0, disksPerInstance: 1, tags });
  prod = (await seed(MATCHING, { env: 'prod' })).instanceIds;
  dev = (await seed(20, { env: 'dev' })).instanceIds;
}, 120_000);
afterAll(async () => h?.close());

async function ruleRows(ruleId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await h.store.instances.listByRule(ruleId, { limit: 500, order: 'asc', cursor });
    ids.push(...page.items.map((r) => r.instanceId));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return ids.sort();
}

describe('protection rules past the tag-filter cap', () => {
  it(`protects all ${MATCHING} matches in one reconciliation, and one tagged later at the next`, async () => {
    const created = await h.call('POST', '/api/v1/protection-rules', {
      body: { name: 'prod', priority: 10, match: { tags: { env: 'prod' } }, plan: dailyPlan },
    });
    expect(created.status, created.text).toBe(201);
    const ruleId = created.body.id as string;

    await h.emulator.admin.clearCalls();
    const report = await reconcileProtectionRules(h.deps);
    expect(report).toMatchObject({ matched: MATCHING, protected: MATCHING, failed: 0 });
    expect(await ruleRows(ruleId)).toEqual([...prod].sort());
    // The complete set came by ListTagResources: the capped filter alone holds 1,000.
    expect((await h.emulator.admin.stats()).callsByAction.ListTagResources).toBeGreaterThan(0);

    h.clock.advance(1000);
    expect(await reconcileProtectionRules(h.deps)).toMatchObject({ matched: MATCHING, protected: 0 });

    const late = dev[0] as string;
    await tagInstance(ecsSdkClient(h.emulator), h.emulator, late, { env: 'prod' });
    h.clock.advance(1000);
    const next = await reconcileProtectionRules(h.deps);
    expect(next).toMatchObject({ matched: MATCHING + 1, protected: 1 });
    expect(await h.store.instances.get(late)).toMatchObject({ ruleId });
  }, 180_000);
});
