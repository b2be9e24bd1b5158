import { Router, type RouteMatch } from './router.js';
import { resourceOf, type RouteLoader } from './routes/lazy.js';

/** What the routing middleware needs: the eager `Router` (tests) and `LazyRouter` (the API) both fit. */
export interface RouteMatcher {
  match(method: string, path: string): RouteMatch | Promise<RouteMatch>;
}

/**
 * Matches against one resource's routes, loaded on the first request for that resource and kept
 * for the instance's life. A path under no known resource is not found without loading anything.
 * A failed load is not kept, so the next request tries again.
 */
export class LazyRouter implements RouteMatcher {
  private readonly routers = new Map<string, Promise<Router>>();

  constructor(private readonly loaders: ReadonlyMap<string, readonly RouteLoader[]>) {}

  async match(method: string, path: string): Promise<RouteMatch> {
    const resource = resourceOf(path);
    const loaders = this.loaders.get(resource);
    if (loaders === undefined) return { kind: 'not-found' };
    let router = this.routers.get(resource);
    if (router === undefined) {
      router = Promise.all(loaders.map((load) => load())).then((groups) => new Router(groups.flat()));
      this.routers.set(resource, router);
      router.catch(() => this.routers.delete(resource));
    }
    return (await router).match(method, path);
  }
}
