/**
 * The CLI's only way to the service: `/api/v1` with the bearer token, the same routes the console
 * uses. Turns a refusal into `ApiRefused` (exit 3) and a network failure into `Unreachable` (exit 4).
 */
import type { Connection } from './config.js';
import { ApiRefused, Unreachable, type Problem } from './errors.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export class ApiClient {
  constructor(readonly connection: Connection) {}

  url(p: string, query: Query = {}): string {
    const url = new URL(`${this.connection.endpoint}/api/v1${p}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  /** The raw response of a successful request (downloads stream it); refusals throw. */
  async fetch(method: string, p: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {
      ...options.headers,
      authorization: `Bearer ${this.connection.token}`,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    let res: Response;
    try {
      res = await fetch(this.url(p, options.query), {
        method,
        headers,
        redirect: 'follow',
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new Unreachable(this.connection.endpoint, cause?.code ?? cause?.message ?? (e as Error).message);
    }
    if (res.ok) return res;
    const text = await res.text();
    let problem: Problem;
    try {
      problem = JSON.parse(text) as Problem;
    } catch {
      problem = { title: res.statusText || 'Request refused', detail: text.slice(0, 500) };
    }
    throw new ApiRefused(res.status, problem);
  }

  async call<T>(method: string, p: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.fetch(method, p, options);
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  get<T>(p: string, query?: Query): Promise<T> {
    return this.call<T>('GET', p, query ? { query } : {});
  }

  post<T>(p: string, body: unknown = {}, idempotencyKey?: string): Promise<T> {
    return this.call<T>('POST', p, { body, ...(idempotencyKey ? { idempotencyKey } : {}) });
  }

  patch<T>(p: string, body: unknown, headers?: Record<string, string>): Promise<T> {
    return this.call<T>('PATCH', p, { body, ...(headers ? { headers } : {}) });
  }

  del<T>(p: string, query?: Query, headers?: Record<string, string>): Promise<T> {
    return this.call<T>('DELETE', p, { ...(query ? { query } : {}), ...(headers ? { headers } : {}) });
  }

  /** One page, or every page when `all` (each cursor is bound to its query, so only it changes). */
  async list<T>(p: string, query: Query, all: boolean): Promise<Page<T>> {
    const first = await this.get<Page<T>>(p, query);
    if (!all) return first;
    const items = [...first.items];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await this.get<Page<T>>(p, { ...query, cursor });
      items.push(...page.items);
      cursor = page.nextCursor;
    }
    return { items, nextCursor: null };
  }
}
