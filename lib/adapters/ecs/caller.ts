import { EcsError, EcsNotFoundError, type Tag } from '../../ports/ecs.js';
import type { Clock } from '../../ports/clock.js';
import { ecsErrorFor } from './errors.js';
import { str, type Json } from './mappers.js';
import type { EcsRpcClient } from './rpc-client.js';

/** Per-call id limits of the ECS API (reference: alibaba-cloud.md). */
export const BATCH_LIMITS = {
  snapshotGroupIds: 10,
  snapshotIds: 100,
  instanceIds: 100,
  diskIds: 100,
  cloudAssistantInstances: 50,
  pageSize: 100,
  /** Cloud Assistant actions page by at most 50. */
  cloudAssistantPageSize: 50,
} as const;

const MAX_PAGES = 10_000;

export type Query = Record<string, string>;

/** What every ECS call shares: the RPC client, the region, batching by id and paging. */
export class EcsCaller {
  constructor(
    readonly rpc: EcsRpcClient,
    readonly regionId: string,
    readonly clock: Clock,
  ) {}

  region(query: Query): Query {
    return { RegionId: this.regionId, ...query };
  }

  /** Splits ids into API-sized batches (deduplicated, order kept) and concatenates the answers. */
  async batched<T>(ids: string[], size: number, fetch: (ids: string[]) => Promise<T[]>): Promise<T[]> {
    const unique = [...new Set(ids)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += size) chunks.push(unique.slice(i, i + size));
    // Concurrent: the rate limiter spaces the calls anyway, and a poll of many jobs finishes sooner.
    const results = await Promise.all(chunks.map(fetch));
    return results.flat();
  }

  /**
   * Follows `NextToken`; if the server answers in page style instead (PageNumber, PageSize,
   * TotalCount and no token), continues by page number.
   */
  async paged<T>(
    action: string,
    query: Query,
    extract: (body: Json) => T[],
    pageSize: number = BATCH_LIMITS.pageSize,
  ): Promise<T[]> {
    const out: T[] = [];
    const seenTokens = new Set<string>();
    let nextToken = '';
    let pageNumber = 0;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const q: Query = { ...query };
      if (pageNumber > 0) {
        q.PageNumber = String(pageNumber);
        q.PageSize = String(pageSize);
      } else {
        q.MaxResults = String(pageSize);
        if (nextToken !== '') q.NextToken = nextToken;
      }
      const body = await this.rpc.call(action, q);
      const items = extract(body);
      out.push(...items);
      const token = str(body.NextToken);
      if (token !== '' && !seenTokens.has(token)) {
        seenTokens.add(token);
        nextToken = token;
        pageNumber = 0;
        continue;
      }
      const total = Number(body.TotalCount);
      const number = Number(body.PageNumber);
      const size = Number(body.PageSize);
      if (token === '' && items.length > 0 && number > 0 && size > 0 && number * size < total) {
        pageNumber = number + 1;
        pageSize = size;
        continue;
      }
      return out;
    }
    throw new EcsError('TooManyPages', `${action}: more than ${MAX_PAGES} pages`);
  }
}

/** `Name.1`, `Name.2`, ... as the RPC style repeats list parameters. */
export function indexed(name: string, values: string[]): Query {
  const out: Query = {};
  values.forEach((v, i) => (out[`${name}.${i + 1}`] = v));
  return out;
}

export function tagParams(tags: Tag[]): Query {
  const out: Query = {};
  tags.forEach((t, i) => {
    out[`Tag.${i + 1}.Key`] = t.key;
    out[`Tag.${i + 1}.Value`] = t.value;
  });
  return out;
}

/** ECS accepts up to 64 ASCII characters; refusing here beats an opaque InvalidParameter later. */
export function clientToken(token: string): string {
  if (token === '' || token.length > 64 || !/^[\x20-\x7e]+$/.test(token)) {
    throw ecsErrorFor('InvalidClientToken', `ClientToken must be 1-64 printable ASCII characters`);
  }
  return token;
}

export function required(body: Json, field: string, action: string): string {
  const v = str(body[field]);
  if (v === '')
    throw new EcsError('InvalidResponse', `${action} answered without ${field}`, { statusCode: 200 });
  return v;
}

/** Deleting what is already gone succeeds: retries and repeated retention sweeps must converge. */
export function isNotFound(err: unknown, resource: string): boolean {
  return err instanceof EcsNotFoundError && err.code.includes(resource);
}
