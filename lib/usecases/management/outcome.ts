import type { ValidationIssue } from '../../domain/errors.js';

/**
 * What a management operation can answer besides success. These are expected outcomes, so they are
 * values; only the HTTP edge turns them into status codes.
 */
export type Refusal =
  | { ok: false; error: 'not_found'; resource: ResourceName; id: string }
  /** The request is well-formed but clashes with the stored state (already protected, point in use...). */
  | { ok: false; error: 'conflict'; detail: string; field?: string }
  /** The request names something that fails a check needing the cloud or the store (a disk not attached). */
  | { ok: false; error: 'invalid'; issues: ValidationIssue[] };

export type ResourceName =
  | 'ECS instance'
  | 'protected instance'
  | 'plan'
  | 'job'
  | 'backup'
  | 'subscription'
  | 'export'
  | 'protection rule';

export type Outcome<T> = { ok: true; value: T } | Refusal;

export function ok<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function notFound(resource: ResourceName, id: string): Refusal {
  return { ok: false, error: 'not_found', resource, id };
}

/** `field`: the request field the clash is about, when one is (a locked backup's `expireAt`). */
export function conflict(detail: string, field?: string): Refusal {
  return field === undefined
    ? { ok: false, error: 'conflict', detail }
    : { ok: false, error: 'conflict', detail, field };
}

export function invalid(issues: ValidationIssue[]): Refusal {
  return { ok: false, error: 'invalid', issues };
}

/**
 * How often a read-modify-write is retried after losing a version race before the caller is told
 * to retry: two operators editing the same plan at once is rare, a hot loop would hide a bug.
 */
export const MAX_WRITE_ATTEMPTS = 5;
