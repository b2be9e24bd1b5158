import type { z } from 'zod';
import type { Deps } from '../runtime/deps.js';
import type { ApiRequest, ApiResponse } from './http.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteContext {
  deps: Deps;
  request: ApiRequest;
}

export interface ResponseSpec {
  description: string;
  /** Absent = no body (204). */
  schema?: z.ZodType;
  headers?: Record<string, string>;
}

type AnySchema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteDef<
  P extends AnySchema | undefined,
  Q extends AnySchema | undefined,
  B extends AnySchema | undefined,
> {
  method: HttpMethod;
  /** OpenAPI style template: `/api/v1/plans/{planId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Served without a credential (only /healthz). */
  public?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  /** A body must be sent (otherwise an empty body is parsed as `undefined`). */
  bodyRequired?: boolean;
  /** Success responses; the problem responses of every route are added by the OpenAPI generator. */
  responses: Record<number, ResponseSpec>;
  /** Client-error statuses this route answers besides the ones every route has (400, 401). */
  problems?: number[];
  handle(input: { params: Out<P>; query: Out<Q>; body: Out<B> }, ctx: RouteContext): Promise<ApiResponse>;
}

export type Route = RouteDef<AnySchema | undefined, AnySchema | undefined, AnySchema | undefined>;

/** Keeps each route's handler typed by its own schemas while the table holds them all. */
export function defineRoute<
  P extends AnySchema | undefined = undefined,
  Q extends AnySchema | undefined = undefined,
  B extends AnySchema | undefined = undefined,
>(def: RouteDef<P, Q, B>): Route {
  return def as unknown as Route;
}

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed'; allow: HttpMethod[] };

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

/** Routes are few and fixed; a linear scan over compiled patterns is simpler than a trie and fast enough. */
export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(readonly routes: readonly Route[]) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const source = route.path
        .split('/')
        .map((segment) => {
          const param = /^\{(\w+)\}$/.exec(segment);
          if (param === null) return escapeRegExp(segment);
          names.push(param[1]!);
          return '([^/]+)';
        })
        .join('/');
      return { route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  match(method: string, path: string): RouteMatch {
    const allow: HttpMethod[] = [];
    for (const { route, pattern, names } of this.compiled) {
      const m = pattern.exec(path);
      if (m === null) continue;
      if (route.method !== method) {
        allow.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (let i = 0; i < names.length; i += 1) {
        const raw = m[i + 1]!;
        let value: string;
        try {
          value = decodeURIComponent(raw);
        } catch {
          // An undecodable segment cannot name any resource.
          return { kind: 'not-found' };
        }
        params[names[i]!] = value;
      }
      return { kind: 'found', route, params };
    }
    return allow.length > 0 ? { kind: 'method-not-allowed', allow } : { kind: 'not-found' };
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
