import { EcsError, type Tag } from '../../ports/ecs.js';
import { tagParams, type EcsCaller } from './caller.js';
import { list, obj, str } from './mappers.js';

/**
 * DescribeInstances filters by `Tag.N` only up to a cap. The official ECS SDK (2014-05-26,
 * `DescribeInstancesRequestTag.key`) states: "If you use a single tag to filter resources, the
 * number of resources with this tag cannot exceed 1,000. If you use multiple tags to filter
 * resources, the number of resources that are attached to all specified tags cannot exceed 1,000.
 * If the resource count exceeds 1,000, use the ListTagResources operation to query resources."
 * A tag-filtered answer whose TotalCount reaches the cap is therefore not trusted to be complete.
 */
export const TAG_FILTER_CAP = 1000;

/** Thrown from the page parser of a tag-filtered DescribeInstances that reached the cap. */
export class TagFilterCapReached extends Error {
  constructor() {
    super(`DescribeInstances tag filter reached ${TAG_FILTER_CAP} instances`);
  }
}

const MAX_PAGES = 10_000;

/**
 * Ids of the instances carrying every one of `tags`, by ListTagResources (ResourceType=instance,
 * `Tag.N`, NextToken). It has no page-size parameter; each page holds up to 50 rows, one row per tag
 * of a matching instance, so an instance with several tags spans several rows (and may span pages).
 * Order is first appearance; duplicates dropped.
 */
export async function listInstanceIdsByTags(
  c: EcsCaller,
  tags: Tag[],
): Promise<{ ids: string[]; pages: number }> {
  const ids = new Set<string>();
  const seenTokens = new Set<string>();
  let nextToken = '';
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const query = c.region({ ResourceType: 'instance', ...tagParams(tags) });
    if (nextToken !== '') query.NextToken = nextToken;
    const body = await c.rpc.call('ListTagResources', query);
    for (const row of list(obj(body.TagResources), 'TagResource')) {
      const id = str(row.ResourceId);
      if (id !== '') ids.add(id);
    }
    nextToken = str(body.NextToken);
    // A repeated token would loop forever; the listing ends where the server stops advancing.
    if (nextToken === '' || seenTokens.has(nextToken)) return { ids: [...ids], pages: page + 1 };
    seenTokens.add(nextToken);
  }
  throw new EcsError('TooManyPages', `ListTagResources: more than ${MAX_PAGES} pages`);
}

/**
 * What the last listings of one tag set cost, per caller (one per region and adapter), so a steady
 * tick over a large fleet takes the cheaper way: `overCap` skips the filtered call it knows will be
 * capped; `listCalls` (ListTagResources pages + DescribeInstances by ids, last time) is weighed
 * against a scan of the whole region, ⌈regionTotal/100⌉ calls (counted once by one call, then
 * recounted by every scan). Only the number of calls depends on this memory, never which
 * instances are found: every way returns the complete set.
 */
export interface TagListingMemo {
  overCap: boolean;
  listCalls?: number;
  regionTotal?: number;
}

const memos = new WeakMap<EcsCaller, Map<string, TagListingMemo>>();

export function tagListingMemo(c: EcsCaller, key: string): TagListingMemo {
  let byKey = memos.get(c);
  if (byKey === undefined) {
    byKey = new Map();
    memos.set(c, byKey);
  }
  let memo = byKey.get(key);
  if (memo === undefined) {
    memo = { overCap: false };
    byKey.set(key, memo);
  }
  return memo;
}
