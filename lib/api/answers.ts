/** The success answers routes give, and small helpers every route table shares. */
import type { ApiResponse } from './http.js';

export const API_PREFIX = '/api/v1';

export const ok = (body: unknown, headers?: Record<string, string>): ApiResponse => ({
  status: 200,
  body,
  headers,
});

export const created = (body: unknown, location: string): ApiResponse => ({
  status: 201,
  body,
  headers: { location },
});

/** A job was started (or found under way): its URL goes in Location. */
export const accepted = (jobId: string, body: unknown): ApiResponse => ({
  status: 202,
  body,
  headers: { location: `${API_PREFIX}/jobs/${encodeURIComponent(jobId)}` },
});

/** Optional fields left out rather than set to undefined, as the ports' filters expect. */
export function stripUndefined<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
