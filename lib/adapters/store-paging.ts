import { ValidationError } from '../domain/errors.js';

/** Position after which the next page starts: the (sort key, id) of the last row returned. */
export interface CursorPosition {
  k: number;
  i: string;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;
/** Hot queries (due plans, expired points) feed batch work and may ask for more per call. */
export const MAX_HOT_LIMIT = 10_000;

export function clampLimit(
  limit: number | undefined,
  max = MAX_PAGE_LIMIT,
  fallback = DEFAULT_PAGE_LIMIT,
): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(max, Math.max(1, Math.floor(limit)));
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.k, position.i]), 'utf8').toString('base64url');
}

/** Cursors come from clients through the API, so a bad one is a validation error, not a crash. */
export function decodeCursor(cursor: string | undefined): CursorPosition | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (err) {
    throw new ValidationError([{ path: 'cursor', message: 'not a cursor returned by this list' }], {
      cause: err,
    });
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'number' ||
    !Number.isFinite(parsed[0]) ||
    typeof parsed[1] !== 'string'
  ) {
    throw new ValidationError([{ path: 'cursor', message: 'not a cursor returned by this list' }]);
  }
  return { k: parsed[0], i: parsed[1] };
}
