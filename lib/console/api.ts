/**
 * The console's only way to the server: `/api/v1` on the page's own origin with the pasted token.
 * The token lives in sessionStorage (gone when the tab closes) and travels only in the
 * Authorization header, never in a URL.
 */
const TOKEN_KEY = 'ecs-backup.token';

export interface FieldError {
  path: string;
  message: string;
}

/** An RFC 9457 answer (or a network failure) as the screens show it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail === '' ? title : `${title}: ${detail}`);
  }

  /** The field errors keyed by path within the request body (`plan.retention.value`). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.errors) out[e.path.replace(/^body\.?/, '')] = e.message;
    return out;
  }
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

let onUnauthorized: () => void = () => undefined;

export function whenUnauthorized(callback: () => void): void {
  onUnauthorized = callback;
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export async function api<T>(method: string, path: string, body?: unknown, token = getToken()): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token ?? ''}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'The server cannot be reached', 'check that ecs-backup is running and try again');
  }
  const text = await res.text();
  const doc = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  if (res.status === 401) {
    onUnauthorized();
    throw new ApiError(401, 'Signed out', 'the API refused the token');
  }
  if (!res.ok) {
    throw new ApiError(
      res.status,
      typeof doc.title === 'string' ? doc.title : `HTTP ${res.status}`,
      typeof doc.detail === 'string' ? doc.detail : '',
      Array.isArray(doc.errors) ? (doc.errors as FieldError[]) : [],
    );
  }
  return doc as T;
}

/** A query string from the defined values only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
