import { EcsApiError, invalidParameter, missingParameter } from './errors.js';

/** A repeated parameter (`Name.N`) within the count ECS allows for it. */
function atMost<T>(name: string, values: T[], max: number | undefined): T[] {
  if (max !== undefined && values.length > max) {
    throw new EcsApiError(`InvalidParameter.${name}`, `The number of ${name}.N must not exceed ${max}.`, 400);
  }
  return values;
}

/** Flat request parameters as the SDK sends them (`DiskId.1`, `Tag.1.Key`, `InstanceIds` as JSON). */
export class Params {
  constructor(readonly raw: Record<string, string>) {}

  str(name: string): string | undefined {
    const v = this.raw[name];
    return v === undefined || v === '' ? undefined : v;
  }

  required(name: string): string {
    const v = this.str(name);
    if (v === undefined) throw missingParameter(name);
    return v;
  }

  int(name: string, min?: number, max?: number): number | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
      throw invalidParameter(
        name,
        `must be an integer${min !== undefined ? ` from ${min}` : ''}${max !== undefined ? ` to ${max}` : ''}`,
      );
    }
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    if (v === 'true' || v === 'True') return true;
    if (v === 'false' || v === 'False') return false;
    throw invalidParameter(name, 'must be true or false');
  }

  /** `Name.1`, `Name.2`, ... in index order. */
  list(name: string, max?: number): string[] {
    const out: [number, string][] = [];
    const prefix = `${name}.`;
    for (const [k, v] of Object.entries(this.raw)) {
      if (!k.startsWith(prefix)) continue;
      const idx = k.slice(prefix.length);
      if (!/^\d+$/.test(idx)) continue;
      if (v !== '') out.push([Number(idx), v]);
    }
    out.sort((a, b) => a[0] - b[0]);
    const values = out.map((e) => e[1]);
    return atMost(name, values, max);
  }

  /** `Name.N.Field` objects, e.g. `Tag.N.Key/Value`, `Disk.N.DiskId/SnapshotId`. */
  objects(name: string, max?: number): Record<string, string>[] {
    const byIndex = new Map<number, Record<string, string>>();
    const prefix = `${name}.`;
    for (const [k, v] of Object.entries(this.raw)) {
      if (!k.startsWith(prefix)) continue;
      const m = /^(\d+)\.(.+)$/.exec(k.slice(prefix.length));
      if (!m) continue;
      const idx = Number(m[1]);
      const field = m[2] as string;
      const obj = byIndex.get(idx) ?? {};
      obj[field] = v;
      byIndex.set(idx, obj);
    }
    const values = [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
    return atMost(name, values, max);
  }

  /** A JSON array of strings (`InstanceIds`, `DiskIds`, `SnapshotIds`). */
  jsonList(name: string, max: number, malformedCode: string): string[] | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      throw new EcsApiError(
        malformedCode,
        `The specified parameter "${name}" is not a valid JSON array.`,
        400,
      );
    }
    if (!Array.isArray(parsed) || parsed.some((e) => typeof e !== 'string')) {
      throw new EcsApiError(
        malformedCode,
        `The specified parameter "${name}" must be a JSON array of strings.`,
        400,
      );
    }
    if (parsed.length > max) {
      throw new EcsApiError(
        malformedCode,
        `The specified parameter "${name}" holds more than ${max} ids.`,
        400,
      );
    }
    return parsed as string[];
  }

  /** `Tag.N.Key/Value` pairs; a Value may be absent (filter on the key only). */
  tags(max = 20): { key: string; value: string | undefined }[] {
    const tags = this.objects('Tag', max).map((t) => ({ key: t['Key'] ?? '', value: t['Value'] }));
    for (const t of tags) {
      if (t.key === '')
        throw new EcsApiError('InvalidTagKey.Malformed', 'The specified Tag.n.Key is not valid.', 400);
    }
    return tags;
  }
}

/** Tags to write: keys unique, no reserved prefixes, lengths as ECS checks them. */
export function validateTagsForWrite(
  tags: { key: string; value: string | undefined }[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of tags) {
    if (key.length > 128 || /^(aliyun|acs:)/i.test(key) || /^https?:\/\//.test(key)) {
      throw new EcsApiError('InvalidTagKey.Malformed', 'The specified Tag.n.Key is not valid.', 400);
    }
    const v = value ?? '';
    if (v.length > 128 || /^https?:\/\//.test(v)) {
      throw new EcsApiError('InvalidTagValue.Malformed', 'The specified Tag.n.Value is not valid.', 400);
    }
    out[key] = v;
  }
  return out;
}

export interface Page<T> {
  items: T[];
  /** Page style answers. */
  totalCount: number;
  pageNumber?: number;
  pageSize?: number;
  /** Token style answers ('' = last page). */
  nextToken?: string;
}

export interface PageLimits {
  pageSizeMax: number;
  pageSizeDefault: number;
  maxResultsMax: number;
  maxResultsDefault: number;
  tokenOnly?: boolean;
}

/** Pages of 10 unless asked otherwise and of `max` at the most, in either style: most Describe actions. */
export const pageLimits = (max: number): PageLimits => ({
  pageSizeMax: max,
  pageSizeDefault: 10,
  maxResultsMax: max,
  maxResultsDefault: 10,
});

/**
 * Both paging styles ECS offers: `PageNumber/PageSize` and `NextToken/MaxResults`.
 * The token is an opaque offset; a token from another listing is refused as ECS does.
 */
export function paginate<T>(p: Params, all: T[], limits: PageLimits): Page<T> {
  const tokenStyle =
    limits.tokenOnly || p.str('NextToken') !== undefined || p.str('MaxResults') !== undefined;
  if (tokenStyle) {
    const max = p.int('MaxResults', 1, limits.maxResultsMax) ?? limits.maxResultsDefault;
    const token = p.str('NextToken');
    let offset = 0;
    if (token !== undefined) {
      const decoded = Buffer.from(token, 'base64url').toString('utf8');
      const m = /^o:(\d+)$/.exec(decoded);
      if (!m)
        throw new EcsApiError('InvalidParameter.NextToken', 'The specified NextToken is not valid.', 400);
      offset = Number(m[1]);
    }
    const items = all.slice(offset, offset + max);
    const next = offset + max < all.length ? Buffer.from(`o:${offset + max}`).toString('base64url') : '';
    return { items, totalCount: all.length, nextToken: next };
  }
  const pageNumber = p.int('PageNumber', 1) ?? 1;
  const pageSize = p.int('PageSize', 1, limits.pageSizeMax) ?? limits.pageSizeDefault;
  const start = (pageNumber - 1) * pageSize;
  return { items: all.slice(start, start + pageSize), totalCount: all.length, pageNumber, pageSize };
}

export function pageFields(page: Page<unknown>): Record<string, unknown> {
  if (page.nextToken !== undefined) return { NextToken: page.nextToken, TotalCount: page.totalCount };
  return { TotalCount: page.totalCount, PageNumber: page.pageNumber, PageSize: page.pageSize };
}
