import { describe, expect, it } from 'vitest';
import { LazyRouter } from '../../lib/api/lazy-router.js';
import { defineRoute, Router, type HttpMethod, type Route, type RouteMatch } from '../../lib/api/router.js';
import { routes } from '../../lib/api/routes/index.js';
import { resourceOf, routeLoaders, type RouteLoader } from '../../lib/api/routes/lazy.js';

const METHODS: HttpMethod[] = ['GET', 'POST', 'PATCH', 'DELETE'];

/** A request path the route answers: each `{param}` filled in. */
function concretePath(route: Route): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => `${name}-1`);
}

/** What a match says, comparable across routers (the allowed methods in any order). */
function summary(match: RouteMatch) {
  if (match.kind === 'found')
    return { kind: match.kind, operationId: match.route.operationId, params: match.params };
  if (match.kind === 'method-not-allowed') return { kind: match.kind, allow: [...match.allow].sort() };
  return { kind: match.kind };
}

const noop = async () => ({ status: 204 });
const route = (method: HttpMethod, path: string, operationId: string): Route =>
  defineRoute({ method, path, operationId, summary: operationId, tag: 't', responses: {}, handle: noop });

describe('the lazily loaded route table', () => {
  it('answers every route of the full table, and every other method on its path, as the eager router does', async () => {
    // Prepare
    const eager = new Router(routes);
    const lazy = new LazyRouter(routeLoaders);
    // Act
    const compared = [];
    for (const r of routes) {
      const path = concretePath(r);
      for (const method of METHODS)
        compared.push({
          method,
          path,
          lazy: summary(await lazy.match(method, path)),
          eager: summary(eager.match(method, path)),
        });
    }
    // Assess
    expect(routes.length).toBeGreaterThan(40);
    for (const c of compared) expect(c.lazy, `${c.method} ${c.path}`).toEqual(c.eager);
    for (const r of routes)
      expect(summary(await lazy.match(r.method, concretePath(r)))).toMatchObject({
        kind: 'found',
        operationId: r.operationId,
      });
  });

  it('says not found for a path under no resource, and for unknown paths under a known one', async () => {
    const lazy = new LazyRouter(routeLoaders);
    for (const path of [
      '/api/v1/nothing-here',
      '/api/v1',
      '/api/v1/',
      '/other',
      '/api/v1/constructor',
      '/api/v1/__proto__/x',
    ])
      expect((await lazy.match('GET', path)).kind, path).toBe('not-found');
    expect((await lazy.match('GET', '/api/v1/plans/p-1/nothing')).kind).toBe('not-found');
  });

  it('keys a path by its first segment under /api/v1, or by the whole path outside it', () => {
    expect(resourceOf('/api/v1/backups/b-1/exports')).toBe('backups');
    expect(resourceOf('/api/v1/plans')).toBe('plans');
    expect(resourceOf('/healthz')).toBe('/healthz');
    expect(resourceOf('/api/v10/plans')).toBe('/api/v10/plans');
  });

  it('loads a resource on its first request only, never another resource, and retries a failed load', async () => {
    // Prepare
    const loads: Record<string, number> = { plans: 0, jobs: 0 };
    let failNext = true;
    const loaders = new Map<string, RouteLoader[]>([
      [
        'plans',
        [
          async () => {
            loads.plans! += 1;
            if (failNext) {
              failNext = false;
              throw new Error('chunk missing');
            }
            return [route('GET', '/api/v1/plans', 'listPlans')];
          },
        ],
      ],
      ['jobs', [async () => ((loads.jobs! += 1), [route('GET', '/api/v1/jobs', 'listJobs')])]],
    ]);
    const lazy = new LazyRouter(loaders);
    // Act + Assess
    await expect(lazy.match('GET', '/api/v1/plans')).rejects.toThrow('chunk missing');
    expect(summary(await lazy.match('GET', '/api/v1/plans'))).toMatchObject({ operationId: 'listPlans' });
    expect(summary(await lazy.match('POST', '/api/v1/plans'))).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET'],
    });
    expect(loads).toEqual({ plans: 2, jobs: 0 });
  });
});
