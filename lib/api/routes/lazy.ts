/**
 * The route table as the deployed API loads it: by resource, on the first request for it. Building
 * every route's zod schemas (and compiling the use cases behind them) at import was most of the
 * API's cold start; a request now pays only for its own resource. The full table stays in
 * `index.ts` (OpenAPI document, tests); `lazy.test.ts` proves every route there is reached here.
 */
import { API_PREFIX } from '../answers.js';
import type { Route } from '../router.js';

export type RouteLoader = () => Promise<readonly Route[]>;

const backups: RouteLoader = () => import('./backups.js').then((m) => m.backupRoutes);
const exportsRoutes: RouteLoader = () => import('./exports.js').then((m) => m.exportRoutes);
const recovery: RouteLoader = () => import('./recovery.js').then((m) => m.recoveryRoutes);

/**
 * The routes that can answer a path, by its first segment under `/api/v1` (or the whole path
 * outside it). Path parameters never span a `/`, so no route answers a path of another segment.
 */
export const routeLoaders: ReadonlyMap<string, readonly RouteLoader[]> = new Map(
  Object.entries({
    '/healthz': [() => import('./health.js').then((m) => [m.healthRoute])],
    // The document describes every route, so it loads the whole table; only tools ask for it.
    'openapi.json': [() => import('./index.js').then((m) => m.routes)],
    instances: [() => import('./instances.js').then((m) => m.instanceRoutes)],
    'protected-instances': [() => import('./protected-instances.js').then((m) => m.protectedInstanceRoutes)],
    plans: [() => import('./plans.js').then((m) => m.planRoutes)],
    jobs: [() => import('./jobs.js').then((m) => m.jobRoutes)],
    // A backup's restore, mount and exports live under it, in their own files.
    backups: [backups, recovery, exportsRoutes],
    mounts: [recovery],
    subscriptions: [() => import('./subscriptions.js').then((m) => m.subscriptionRoutes)],
    exports: [exportsRoutes],
    'protection-rules': [() => import('./protection-rules.js').then((m) => m.protectionRuleRoutes)],
  }),
);

/** The key of `routeLoaders` a request path falls under. */
export function resourceOf(path: string): string {
  if (!path.startsWith(`${API_PREFIX}/`)) return path;
  const rest = path.slice(API_PREFIX.length + 1);
  const slash = rest.indexOf('/');
  return slash === -1 ? rest : rest.slice(0, slash);
}
