import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpProblem } from './problem.js';

const REALM = 'ecs-backup';

/**
 * Checks `Authorization: Bearer <token>`. Both sides are hashed first so the comparison always runs
 * over two 32-byte digests: timingSafeEqual needs equal lengths, and comparing raw strings would
 * leak the token's length through the early exit.
 */
export function checkBearer(authorization: string | undefined, expected: string | undefined): void {
  if (expected === undefined || expected === '') {
    // Fail closed: an API without a configured token answers nobody.
    throw unauthorized('the API has no token configured', 'invalid_token');
  }
  if (authorization === undefined || authorization.trim() === '') {
    throw unauthorized('send Authorization: Bearer <token>');
  }
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization);
  if (match === null)
    throw unauthorized('the Authorization header must use the Bearer scheme', 'invalid_request');
  if (!tokensEqual(match[1]!, expected)) throw unauthorized('the token is not valid', 'invalid_token');
}

export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function unauthorized(detail: string, error?: 'invalid_token' | 'invalid_request'): HttpProblem {
  // RFC 6750 §3: a request without credentials gets the challenge without an error code.
  const challenge =
    error === undefined ? `Bearer realm="${REALM}"` : `Bearer realm="${REALM}", error="${error}"`;
  return new HttpProblem('unauthorized', detail, { headers: { 'www-authenticate': challenge } });
}

/**
 * The governance override of a backup lock: the break-glass header, when sent, must carry the
 * separately configured token. Absent header = no override asked; a wrong one is refused outright
 * rather than quietly treated as absent, so a failed attempt is visible to whoever made it.
 */
export function checkBreakGlass(header: string | undefined, expected: string | undefined): boolean {
  if (header === undefined || header === '') return false;
  if (expected === undefined || expected === '') {
    throw new HttpProblem(
      'conflict',
      'no break-glass token is configured; backup locks cannot be overridden',
    );
  }
  if (!tokensEqual(header.trim(), expected))
    throw unauthorized('the break-glass token is not valid', 'invalid_token');
  return true;
}
