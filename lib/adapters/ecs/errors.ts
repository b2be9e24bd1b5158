import { EcsError } from '../../ports/ecs.js';

/** Code given to failures where ECS never answered (connection refused or reset, timeout, unreadable body). */
export const NO_ANSWER_CODE = 'NetworkError';

/**
 * What ECS documents as transient: throttling of any kind, internal errors and unavailability.
 * `IdempotentProcessing` means a request with the same ClientToken is still running, so asking
 * again later returns its result.
 */
export function isRetryableCode(code: string, statusCode: number | null): boolean {
  if (code.startsWith('Throttling') || code.includes('.Throttling') || code === 'Throttling') return true;
  if (code === 'InternalError' || code === 'ServiceUnavailable' || code === 'UnknownError') return true;
  if (code === 'IdempotentProcessing' || code === NO_ANSWER_CODE) return true;
  return statusCode !== null && statusCode >= 500;
}

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  data?: unknown;
}

/**
 * Turns whatever the SDK threw into an `EcsError`. The SDK throws a `ResponseError` carrying the
 * JSON error body in `data` when ECS answered 4xx/5xx; anything else (socket errors, timeouts, an
 * error page that is not JSON) means no usable answer.
 */
export function toEcsError(err: unknown, action: string): EcsError {
  if (err instanceof EcsError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const data = typeof e.data === 'object' && e.data !== null ? (e.data as Record<string, unknown>) : null;
  const statusCode = numberOrNull(e.statusCode) ?? numberOrNull(data?.statusCode);
  if (statusCode !== null && data !== null) {
    const code = stringOr(data.Code ?? data.code, stringOr(e.code, `HTTP${statusCode}`));
    const message = stringOr(data.Message ?? data.message, `${action} failed with HTTP ${statusCode}`);
    const requestId = stringOr(data.RequestId ?? data.requestId, '');
    const full = requestId === '' ? message : `${message} (RequestId ${requestId})`;
    return new EcsError(code, full, statusCode, isRetryableCode(code, statusCode), { cause: err });
  }
  const detail = stringOr(e.message, String(err));
  const sysCode = typeof e.code === 'string' && e.code !== '' ? `${e.code}: ` : '';
  return new EcsError(NO_ANSWER_CODE, `${action}: no answer from ECS: ${sysCode}${detail}`, null, true, {
    cause: err,
  });
}

function numberOrNull(v: unknown): number | null {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null;
}

function stringOr(v: unknown, fallback: string): string {
  return typeof v === 'string' && v !== '' && v !== 'undefined' ? v : fallback;
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffDelayMs(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
) {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
