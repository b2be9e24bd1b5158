import type { Ctx, Handler } from './context.js';
import { instanceActions } from './actions-instances.js';
import type { EcsState } from './state.js';

/**
 * ECS answers a `Tag.N`-filtered DescribeInstances for at most 1,000 instances carrying the tags
 * (the official SDK's `DescribeInstancesRequestTag.key`: "the number of resources with this tag
 * cannot exceed 1,000 ... use the ListTagResources operation"). The emulator keeps the first 1,000
 * of them and answers as if the rest did not exist, TotalCount included, so a client that trusts the
 * filter beyond the cap silently misses instances here as it would there.
 */
export const TAG_FILTER_CAP = 1000;

function capped(ctx: Ctx, inner: Handler): ReturnType<Handler> {
  const tagged = ctx.state.idsWithTags('instance', ctx.params.tags());
  if (tagged === null || tagged.size <= TAG_FILTER_CAP) return inner(ctx);
  const kept = new Set<string>();
  for (const id of tagged) {
    if (kept.size === TAG_FILTER_CAP) break;
    kept.add(id);
  }
  // The inventory handler reads the tag index through the state; only that one read is narrowed.
  const state = new Proxy(ctx.state, {
    get(target, key) {
      if (key === 'idsWithTags')
        return (...args: Parameters<EcsState['idsWithTags']>) =>
          args[0] === 'instance' ? kept : target.idsWithTags(...args);
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return inner({ ...ctx, state });
}

const describeInstances = instanceActions.DescribeInstances as Handler;

export const tagFilterCapActions: Record<string, Handler> = {
  DescribeInstances: (ctx) => capped(ctx, describeInstances),
};
