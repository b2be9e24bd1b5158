import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Ecs } from '../../lib/ports/ecs.js';
import type { EcsEmulator } from '../../local/ecs-emulator/index.js';
import { tagInstance, untagInstance, type EcsSdkClient } from '../support/ecs-sdk.js';
import {
  describePagesByTag,
  seedTagged,
  sorted,
  startTagFleet,
  type TagFleet,
} from './support/ecs-fixtures.js';

/**
 * Instances by tag, as reconciliation reads them: DescribeInstances with `Tag.N.Key/Value` filters,
 * 100 a page by NextToken. Checked through the adapter and through the official typed SDK, so the
 * emulator answers as ECS does and the adapter pages as it must.
 */

let fleet: TagFleet;
let emu: EcsEmulator;
let ecs: Ecs;
let sdk: EcsSdkClient;
let prod: string[] = [];
let prodZoneI: string[] = [];

beforeAll(async () => {
  fleet = await startTagFleet('ecsb-tags-');
  ({ emu, sdk } = fleet);
  ecs = fleet.adapter();
  prod = await seedTagged(emu, 230, 'cn-hangzhou-h', { env: 'prod', app: 'web' });
  prodZoneI = await seedTagged(emu, 20, 'cn-hangzhou-i', { env: 'prod' });
  await seedTagged(emu, 300, 'cn-hangzhou-h', { env: 'dev' });
}, 60_000);

afterAll(async () => {
  await fleet?.close();
});

beforeEach(async () => {
  await emu.admin.clearCalls();
});

describe('describeInstancesByTags', () => {
  it('reads every match of a tag in pages of 100: 250 of 550 instances in 3 calls', async () => {
    const found = await ecs.describeInstancesByTags([{ key: 'env', value: 'prod' }]);
    expect(sorted(found.map((i) => i.instanceId))).toEqual(sorted([...prod, ...prodZoneI]));
    expect(found.every((i) => i.tags.some((t) => t.key === 'env' && t.value === 'prod'))).toBe(true);
    expect((await emu.admin.stats()).callsByAction.DescribeInstances).toBe(3);
  });

  it('ands several tags and narrows to one zone', async () => {
    const both = await ecs.describeInstancesByTags([
      { key: 'env', value: 'prod' },
      { key: 'app', value: 'web' },
    ]);
    expect(sorted(both.map((i) => i.instanceId))).toEqual(sorted(prod));
    const zoned = await ecs.describeInstancesByTags([{ key: 'env', value: 'prod' }], 'cn-hangzhou-i');
    expect(sorted(zoned.map((i) => i.instanceId))).toEqual(sorted(prodZoneI));
    expect(zoned.every((i) => i.zoneId === 'cn-hangzhou-i')).toBe(true);
    expect(await ecs.describeInstancesByTags([{ key: 'env', value: 'nowhere' }])).toEqual([]);
  });

  it('sees a tag added and removed with TagResources / UntagResources at the next read', async () => {
    const id = prodZoneI[0] as string;
    await tagInstance(sdk, emu, id, { backup: 'gold' });
    expect(
      (await ecs.describeInstancesByTags([{ key: 'backup', value: 'gold' }])).map((i) => i.instanceId),
    ).toEqual([id]);
    await untagInstance(sdk, emu, id, ['backup']);
    expect(await ecs.describeInstancesByTags([{ key: 'backup', value: 'gold' }])).toEqual([]);
  });

  it('the official SDK gets the same pages: MaxResults 100 and a NextToken until the last page', async () => {
    const pages = await describePagesByTag(fleet, { key: 'env', value: 'prod' });
    for (const page of pages) expect(page.ids.length).toBeLessThanOrEqual(100);
    expect(pages).toHaveLength(3);
    expect(sorted(pages.flatMap((p) => p.ids))).toEqual(sorted([...prod, ...prodZoneI]));
  });
});
