import type { Ecs } from '../../ports/ecs.js';
import { ecsReaders } from './ecs-readers.js';
import type { Deps, EngineHooks } from '../deps.js';
import type { StepContext } from './job-kind.js';

/** The one place a step context is built: for the worker loop and for the dead-letter path alike. */
export function jobContext(deps: Deps): StepContext {
  const ctx: StepContext = {
    deps,
    // Readers are shared per ECS client (batched polls across jobs), so they use the client itself.
    readers: ecsReaders(deps.ecs, deps.clock, deps.settings.POLL_INTERVAL_SECONDS),
    entered: new Set(),
    current: null,
  };
  const hook = deps.hooks?.afterEcsCall;
  if (hook) ctx.deps = { ...deps, ecs: withAfterCallHook(deps.ecs, hook, ctx) };
  return ctx;
}

/** Test seam: every ECS method a step calls reports to the hook once it has answered. */
function withAfterCallHook(ecs: Ecs, hook: NonNullable<EngineHooks['afterEcsCall']>, ctx: StepContext): Ecs {
  return new Proxy(ecs, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      // A region view is no call to ECS: its calls report like the default region's.
      if (prop === 'forRegion')
        return (regionId: string) => withAfterCallHook(target.forRegion(regionId), hook, ctx);
      return async (...args: unknown[]) => {
        const answer: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (ctx.current) await hook(ctx.current, String(prop));
        return answer;
      };
    },
  });
}
