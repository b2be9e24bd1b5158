import { checkRegion, type Handler, type Ctx } from './context.js';
import { EcsApiError, missingParameter } from './errors.js';
import { paginate, validateTagsForWrite } from './params.js';
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

const listTagResources: Handler = (ctx) => {
  checkRegion(ctx);
  const type = resourceType(ctx);
  const ids = ctx.params.list('ResourceId', 50);
  const filter = ctx.params.tags(20);
  let candidateIds: string[];
  if (ids.length > 0) candidateIds = ids;
  else {
    const tagged = ctx.state.idsWithTags(type, filter);
    if (!tagged) throw missingParameter('ResourceId.1');
    candidateIds = [...tagged].sort();
  }
  const rows: { ResourceId: string; ResourceType: string; TagKey: string; TagValue: string }[] = [];
  for (const id of candidateIds) {
    const r = resolve(ctx, type, id);
    if (!r) continue;
    const ok = filter.every((t) => t.key in r.tags && (t.value === undefined || r.tags[t.key] === t.value));
    if (!ok) continue;
    for (const [k, v] of Object.entries(r.tags))
      rows.push({ ResourceId: id, ResourceType: type, TagKey: k, TagValue: v });
  }
  const page = paginate(ctx.params, rows, {
    pageSizeMax: 50,
    pageSizeDefault: 50,
    maxResultsMax: 1000,
    maxResultsDefault: 50,
    tokenOnly: true,
  });
  return { TagResources: { TagResource: page.items }, NextToken: page.nextToken ?? '' };
};

export const tagActions: Record<string, Handler> = {
  TagResources: tagResources,
  UntagResources: untagResources,
  ListTagResources: listTagResources,
};
