import { checkRegion, type Handler, type Ctx } from './context.js';
import { EcsApiError, missingParameter } from './errors.js';
import { validateTagsForWrite } from './params.js';
import type { TaggedType } from './tag-index.js';

const TYPES: Record<string, TaggedType> = {
  instance: 'instance',
  disk: 'disk',
  snapshot: 'snapshot',
  snapshotgroup: 'snapshotgroup',
};

interface Taggable {
  tags: Record<string, string>;
}

function resolve(ctx: Ctx, type: TaggedType, id: string): Taggable | undefined {
  switch (type) {
    case 'instance':
      return ctx.state.instances.get(id);
    case 'disk':
      return ctx.state.disks.get(id);
    case 'snapshot':
      return ctx.state.snapshots.get(id);
    case 'snapshotgroup':
      return ctx.state.groups.get(id);
  }
}

function save(ctx: Ctx, type: TaggedType, id: string): void {
  switch (type) {
    case 'instance':
      return ctx.state.putInstance(ctx.state.instances.get(id)!);
    case 'disk':
      return ctx.state.putDisk(ctx.state.disks.get(id)!);
    case 'snapshot':
      return ctx.state.putSnapshot(ctx.state.snapshots.get(id)!);
    case 'snapshotgroup':
      return ctx.state.putGroup(ctx.state.groups.get(id)!);
  }
}

function resourceType(ctx: Ctx): TaggedType {
  const raw = ctx.params.required('ResourceType');
  const type = TYPES[raw.toLowerCase()];
  if (!type)
    throw new EcsApiError(
      'InvalidResourceType.NotFound',
      `The specified ResourceType ${raw} is not supported.`,
      400,
    );
  return type;
}

function resources(ctx: Ctx, type: TaggedType, ids: string[]): Taggable[] {
  return ids.map((id) => {
    const r = resolve(ctx, type, id);
    if (!r)
      throw new EcsApiError(
        'InvalidResourceId.NotFound',
        `The specified resource ${id} does not exist.`,
        404,
      );
    return r;
  });
}

const tagResources: Handler = (ctx) => {
  checkRegion(ctx);
  const type = resourceType(ctx);
  const ids = ctx.params.list('ResourceId', 50);
  if (ids.length === 0) throw missingParameter('ResourceId.1');
  const tags = validateTagsForWrite(ctx.params.tags(20));
  if (Object.keys(tags).length === 0) throw missingParameter('Tag.1.Key');
  const targets = resources(ctx, type, ids);
  for (const r of targets) {
    if (Object.keys({ ...r.tags, ...tags }).length > 20) {
      throw new EcsApiError('InvalidTagCount', 'A resource holds at most 20 tags.', 400);
    }
  }
  ctx.state.db.batch(() => {
    ids.forEach((id, i) => {
      const r = targets[i] as Taggable;
      r.tags = { ...r.tags, ...tags };
      save(ctx, type, id);
    });
  });
  return {};
};

const untagResources: Handler = (ctx) => {
  checkRegion(ctx);
  const type = resourceType(ctx);
  const ids = ctx.params.list('ResourceId', 50);
  if (ids.length === 0) throw missingParameter('ResourceId.1');
  const keys = ctx.params.list('TagKey', 20);
  const all = ctx.params.bool('All') ?? false;
  const targets = resources(ctx, type, ids);
  ctx.state.db.batch(() => {
    ids.forEach((id, i) => {
      const r = targets[i] as Taggable;
      const next = { ...r.tags };
      for (const k of all ? Object.keys(next) : keys) delete next[k];
      r.tags = next;
      save(ctx, type, id);
    });
  });
  return {};
};

const MAX_RESULTS = 1000;

/** Where a page starts: the resource (by id order) and how many of its tag rows came before. */
function decodeTagToken(token: string | undefined): { id: string; skip: number } | undefined {
  if (token === undefined || token === '') return undefined;
  const m = /^k:(\d+):(.+)$/s.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m) throw new EcsApiError('InvalidParameter.NextToken', 'The specified NextToken is not valid.', 400);
  return { id: m[2] as string, skip: Number(m[1]) };
}

/**
 * The `k` smallest ids at or after `from`, in order. A page needs at most MaxResults + 1 resources
 * (each tagged one gives a row at least), so a listing paged 50 rows at a time over 10,000
 * resources costs one pass per page instead of a sort of all of them.
 */
function firstIdsFrom(ids: Iterable<string>, from: string | undefined, k: number): string[] {
  const best: string[] = [];
  for (const id of ids) {
    if (from !== undefined && id < from) continue;
    if (best.length === k && id >= (best[k - 1] as string)) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((best[mid] as string) < id) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, id);
    if (best.length > k) best.pop();
  }
  return best;
}

const listTagResources: Handler = (ctx) => {
  checkRegion(ctx);
  const type = resourceType(ctx);
  const ids = ctx.params.list('ResourceId', 50);
  const filter = ctx.params.tags(20);
  const max = ctx.params.int('MaxResults', 1, MAX_RESULTS) ?? 50;
  const start = decodeTagToken(ctx.params.str('NextToken'));
  const matches = (r: Taggable) =>
    filter.every((t) => t.key in r.tags && (t.value === undefined || r.tags[t.key] === t.value));
  let selected: string[];
  if (ids.length > 0) {
    // At most 50 named resources, some perhaps without a tag: all of them, in id order.
    const named = ids.filter((id) => {
      const r = resolve(ctx, type, id);
      return r !== undefined && matches(r);
    });
    selected = firstIdsFrom(new Set(named), start?.id, named.length);
  } else {
    const tagged = ctx.state.idsWithTags(type, filter);
    if (!tagged) throw missingParameter('ResourceId.1');
    selected = firstIdsFrom(tagged, start?.id, max + 1);
  }
  const rows: { ResourceId: string; ResourceType: string; TagKey: string; TagValue: string }[] = [];
  let next = '';
  for (let i = 0; i < selected.length && next === ''; i += 1) {
    const id = selected[i] as string;
    const entries = Object.entries((resolve(ctx, type, id) as Taggable).tags);
    let n = id === start?.id ? start.skip : 0;
    for (; n < entries.length && rows.length < max; n += 1) {
      const [k, v] = entries[n] as [string, string];
      rows.push({ ResourceId: id, ResourceType: type, TagKey: k, TagValue: v });
    }
    if (rows.length < max) continue;
    // A full page: the next one starts at the first row not given, in this resource or the next.
    const after =
      n < entries.length
        ? { id, skip: n }
        : i + 1 < selected.length
          ? { id: selected[i + 1], skip: 0 }
          : null;
    if (after) next = Buffer.from(`k:${after.skip}:${after.id}`).toString('base64url');
    else break;
  }
  return { TagResources: { TagResource: rows }, NextToken: next };
};

export const tagActions: Record<string, Handler> = {
  TagResources: tagResources,
  UntagResources: untagResources,
  ListTagResources: listTagResources,
};
