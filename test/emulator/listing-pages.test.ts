import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ecs, REGION, ecsError, startHarness, type Harness } from './helpers.js';

/**
 * The two listings a fleet reconciliation pages through: ListTagResources (a page may end inside
 * one resource's tags) and DescribeInstances over the whole region (a Status filter sees transitions
 * that nobody has read yet).
 */
describe('ECS emulator: ListTagResources and DescribeInstances pages', () => {
  let h: Harness;
  let tagged: string[];
  beforeAll(async () => {
    h = await startHarness({ seed: {} });
    tagged = (
      await h.emu.admin.bulkSeed({
        instances: 20,
        snapshots: 0,
        disksPerInstance: 1,
        tags: { team: 'a', env: 'prod', app: 'web' },
      })
    ).instanceIds;
    await h.emu.admin.bulkSeed({ instances: 5, snapshots: 0, disksPerInstance: 1, tags: { env: 'dev' } });
  });
  afterAll(async () => {
    await h.stop();
  });

  // ECS has no page size for this action: 50 rows a page, one row per tag.
  const listPage = (nextToken?: string) =>
    h.ecs.listTagResources(
      new Ecs.ListTagResourcesRequest({
        regionId: REGION,
        resourceType: 'instance',
        tag: [{ key: 'env', value: 'prod' }],
        ...(nextToken ? { nextToken } : {}),
      }),
    );

  it('pages of 50 rows over resources of 3 tags give every row once, in id order, a resource split across pages', async () => {
    const rows: string[] = [];
    const sizes: number[] = [];
    let token: string | undefined;
    do {
      const page = await listPage(token);
      const got = page.body?.tagResources?.tagResource ?? [];
      sizes.push(got.length);
      rows.push(...got.map((r) => `${r.resourceId}:${r.tagKey}=${r.tagValue}`));
      token = page.body?.nextToken || undefined;
    } while (token !== undefined);
    const expected = [...tagged].sort().flatMap((id) => [`${id}:team=a`, `${id}:env=prod`, `${id}:app=web`]);
    expect(rows).toEqual(expected);
    expect(sizes).toEqual([50, 10]);
  });

  it('a resource tagged while the pages are read is in a later page when its id sorts after the last one given', async () => {
    const first = await listPage();
    const fresh = (
      await h.emu.admin.bulkSeed({ instances: 1, snapshots: 0, disksPerInstance: 1, tags: { env: 'prod' } })
    ).instanceIds[0] as string;
    const ids = new Set<string>(
      (first.body?.tagResources?.tagResource ?? []).map((r) => r.resourceId as string),
    );
    let token = first.body?.nextToken || undefined;
    while (token !== undefined) {
      const page = await listPage(token);
      for (const r of page.body?.tagResources?.tagResource ?? []) ids.add(r.resourceId as string);
      token = page.body?.nextToken || undefined;
    }
    const lastGiven = first.body?.tagResources?.tagResource?.at(-1)?.resourceId as string;
    expect(ids.has(fresh)).toBe(fresh > lastGiven);
    for (const id of tagged) expect(ids.has(id)).toBe(true);
  });

  it('refuses a NextToken it did not give', async () => {
    const err = await ecsError(listPage(Buffer.from('o:5').toString('base64url')));
    expect(err.code).toBe('InvalidParameter.NextToken');
  });

  it('a Status filter over the region sees a transition nobody read; unfiltered pages show it too', async () => {
    const [stopped, other] = tagged as [string, string];
    await h.ecs.stopInstance(new Ecs.StopInstanceRequest({ instanceId: stopped }));
    await new Promise((r) => setTimeout(r, 200));
    const byStatus = await h.ecs.describeInstances(
      new Ecs.DescribeInstancesRequest({ regionId: REGION, status: 'Stopped', maxResults: 100 }),
    );
    expect(byStatus.body?.instances?.instance?.map((i) => i.instanceId)).toEqual([stopped]);
    expect(byStatus.body?.totalCount).toBe(1);

    await h.ecs.stopInstance(new Ecs.StopInstanceRequest({ instanceId: other }));
    await new Promise((r) => setTimeout(r, 200));
    const all: { id: string; status: string }[] = [];
    let token: string | undefined;
    do {
      const page = await h.ecs.describeInstances(
        new Ecs.DescribeInstancesRequest({
          regionId: REGION,
          maxResults: 4,
          ...(token ? { nextToken: token } : {}),
        }),
      );
      for (const i of page.body?.instances?.instance ?? [])
        all.push({ id: i.instanceId as string, status: i.status as string });
      token = page.body?.nextToken || undefined;
    } while (token !== undefined);
    expect(all.length).toBe(26);
    expect(new Set(all.map((i) => i.id)).size).toBe(26);
    expect(
      all
        .filter((i) => i.status === 'Stopped')
        .map((i) => i.id)
        .sort(),
    ).toEqual([stopped, other].sort());
  });
});
