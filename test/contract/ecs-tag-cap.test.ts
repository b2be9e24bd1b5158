import * as EcsModels from '@alicloud/ecs20140526';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EcsEmulator } from '../../local/ecs-emulator/index.js';
import type { EcsSdkClient } from '../support/ecs-sdk.js';
import {
  describePagesByTag,
  seedTagged,
  sorted,
  startTagFleet,
  type TagFleet,
} from './support/ecs-fixtures.js';

/**
 * Past the tag-filter cap of DescribeInstances (1,000 instances with the tags), the adapter lists
 * ids with ListTagResources and reads details by InstanceIds. Checked against the emulator, which
 * caps the filter as ECS documents it, through the adapter and the official typed SDK.
 */

let fleet: TagFleet;
let emu: EcsEmulator;
let sdk: EcsSdkClient;
let prodH: string[] = [];
let prodI: string[] = [];
let staging: string[] = [];

beforeAll(async () => {
  fleet = await startTagFleet('ecsb-tagcap-');
  ({ emu, sdk } = fleet);
  prodH = await seedTagged(emu, 1100, 'cn-hangzhou-h', { env: 'prod' });
  await seedTagged(emu, 150, 'cn-hangzhou-h', { env: 'dev' });
  prodI = await seedTagged(emu, 100, 'cn-hangzhou-i', { env: 'prod' });
  staging = await seedTagged(emu, 2500, 'cn-hangzhou-h', { env: 'staging' });
}, 120_000);

afterAll(async () => {
  await fleet?.close();
});

beforeEach(async () => {
  await emu.admin.clearCalls();
});

const calls = async () => (await emu.admin.stats()).callsByAction;

describe('tag filter beyond the DescribeInstances cap', () => {
  it('the official SDK sees the cap: a tag filter matching 1,200 pages through 1,000 and TotalCount 1,000', async () => {
    const pages = await describePagesByTag(fleet, { key: 'env', value: 'prod' });
    const seen = pages.flatMap((p) => p.ids);
    expect(new Set(pages.map((p) => p.totalCount))).toEqual(new Set([1000]));
    expect(new Set(seen).size).toBe(1000);
    const prod = new Set([...prodH, ...prodI]);
    expect(seen.every((id) => prod.has(id))).toBe(true);
  });

  it('the official SDK lists every tagged instance with ListTagResources, 50 rows a page', async () => {
    const ids: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const res = await sdk.listTagResources(
        new EcsModels.ListTagResourcesRequest({
          regionId: emu.regionId,
          resourceType: 'instance',
          tag: [new EcsModels.ListTagResourcesRequestTag({ key: 'env', value: 'prod' })],
          ...(nextToken === undefined ? {} : { nextToken }),
        }),
      );
      const rows = res.body?.tagResources?.tagResource ?? [];
      expect(rows.length).toBeLessThanOrEqual(50);
      expect(rows.every((r) => r.tagKey === 'env' && r.tagValue === 'prod')).toBe(true);
      ids.push(...rows.map((r) => r.resourceId ?? ''));
      nextToken = res.body?.nextToken || undefined;
      pages += 1;
    } while (nextToken !== undefined);
    expect(pages).toBe(24);
    expect(sorted(ids)).toEqual(sorted([...prodH, ...prodI]));
  });

  it('the adapter finds all 1,200: one capped call, then ListTagResources and DescribeInstances by ids', async () => {
    const fresh = fleet.adapter();
    const found = await fresh.describeInstancesByTags([{ key: 'env', value: 'prod' }]);
    expect(sorted(found.map((i) => i.instanceId))).toEqual(sorted([...prodH, ...prodI]));
    expect(found.every((i) => i.tags.some((t) => t.key === 'env' && t.value === 'prod'))).toBe(true);
    let byAction = await calls();
    expect(byAction.ListTagResources).toBe(24);
    // The capped call, 12 by ids, and one that counts the region's instances (3,850).
    expect(byAction.DescribeInstances).toBe(1 + 12 + 1);

    // The next read skips the filter it knows is capped, and ⌈1200/50⌉ + ⌈1200/100⌉ = 36 calls
    // still beat reading the region, ⌈3850/100⌉ = 39.
    await emu.admin.clearCalls();
    expect((await fresh.describeInstancesByTags([{ key: 'env', value: 'prod' }])).length).toBe(1200);
    byAction = await calls();
    expect(byAction.ListTagResources).toBe(24);
    expect(byAction.DescribeInstances).toBe(12);
  });

  it('reads the whole region instead when that is cheaper: 2,500 of 3,850 in 39 calls, not 75', async () => {
    const fresh = fleet.adapter();
    const tag = [{ key: 'env', value: 'staging' }];
    expect(sorted((await fresh.describeInstancesByTags(tag)).map((i) => i.instanceId))).toEqual(
      sorted(staging),
    );
    expect((await calls()).ListTagResources).toBe(50);
    await emu.admin.clearCalls();
    expect(sorted((await fresh.describeInstancesByTags(tag)).map((i) => i.instanceId))).toEqual(
      sorted(staging),
    );
    const byAction = await calls();
    expect(byAction.ListTagResources ?? 0).toBe(0);
    expect(byAction.DescribeInstances).toBe(39);
  });

  it('narrows to one zone past the cap, where a zoned filter alone would not say it was cut', async () => {
    const zoned = await fleet
      .adapter()
      .describeInstancesByTags([{ key: 'env', value: 'prod' }], 'cn-hangzhou-i');
    expect(sorted(zoned.map((i) => i.instanceId))).toEqual(sorted(prodI));
    expect(zoned.every((i) => i.zoneId === 'cn-hangzhou-i')).toBe(true);
  });

  it('returns to the plain filter once the tagged set falls below the cap', async () => {
    const fresh = fleet.adapter();
    const tag = [{ key: 'env', value: 'prod' }];
    expect((await fresh.describeInstancesByTags(tag)).length).toBe(1200);
    const dropped = prodH.slice(0, 201);
    for (let i = 0; i < dropped.length; i += 50) {
      await sdk.untagResources(
        new EcsModels.UntagResourcesRequest({
          regionId: emu.regionId,
          resourceType: 'instance',
          resourceId: dropped.slice(i, i + 50),
          tagKey: ['env'],
        }),
      );
    }
    const left = sorted([...prodH.slice(201), ...prodI]);
    // Still remembered as over the cap: the next read finds 999 and forgets it.
    expect(sorted((await fresh.describeInstancesByTags(tag)).map((i) => i.instanceId))).toEqual(left);
    await emu.admin.clearCalls();
    expect(sorted((await fresh.describeInstancesByTags(tag)).map((i) => i.instanceId))).toEqual(left);
    const byAction = await calls();
    expect(byAction.ListTagResources ?? 0).toBe(0);
    expect(byAction.DescribeInstances).toBe(10);
  });
});
