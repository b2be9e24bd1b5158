import { createHash } from 'node:crypto';
import type { Clock } from '../ports/clock.js';
import type { IdempotencyCollection, IdempotencyRecord } from '../ports/store.js';
import { canonicalJson } from './canonical-json.js';
import { HttpProblem } from './problem.js';

/**
 * `Idempotency-Key` on POST, after draft-ietf-httpapi-idempotency-key-header: the same key and the
 * same request get the first answer and the work runs once; the same key with another request is
 * 422. A request whose twin is still running waits for the twin's answer (up to TWIN_WAIT_MS, reading
 * the answer record every TWIN_POLL_MS) and replays it, so twins sent together both get the first
 * answer; only a twin still running after that is 409 with Retry-After.
 *
 * Two records per key, both create-if-absent: a short lease (`lease:<key>`) claimed before the work,
 * and the answer (`answer:<key>`) written after it. The lease is what makes concurrent twins run
 * the work once; it expires on its own, so a request that died mid-way (a 5xx, a crash) does not
 * lock the key forever: the store treats an expired record as absent, so exactly one retry takes
 * the lease over. Validation failures are answered before a lease is taken and are not remembered.
 */

export const ANSWER_TTL_MS = 24 * 60 * 60 * 1000;
/** Twice the API function's timeout (serverless.yml: 30 s), so a live owner never loses its lease. */
export const LEASE_TTL_MS = 60 * 1000;

/** Most requests finish well within this; a client is not kept waiting long for one that does not. */
export const TWIN_WAIT_MS = 3000;
const TWIN_POLL_MS = 50;
/** A client told to come back gets the answer soon after its twin finishes, not at the lease's end. */
const MAX_RETRY_AFTER_SECONDS = 5;

const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

export interface IdempotencyClaim {
  key: string;
  requestHash: string;
}

export type IdempotencyDecision =
  { kind: 'replay'; answer: StoredAnswer } | { kind: 'proceed'; claim: IdempotencyClaim };

export function validateIdempotencyKey(key: string): void {
  if (!KEY_PATTERN.test(key)) {
    throw new HttpProblem('bad-request', 'Idempotency-Key must be 1-200 visible ASCII characters', {
      errors: [{ path: 'header.Idempotency-Key', message: 'must be 1-200 visible ASCII characters' }],
    });
  }
}

/** Method, path and body, with object keys sorted so a re-serialised body still matches. */
export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

const answerKey = (key: string) => `answer:${key}`;
const leaseKey = (key: string) => `lease:${key}`;

function live(record: IdempotencyRecord | undefined, now: number): record is IdempotencyRecord {
  // Stores may return a record past its expiry until their TTL sweep drops it.
  return record !== undefined && record.expireAt > now;
}

function decodeAnswer(record: IdempotencyRecord): StoredAnswer {
  const parsed = JSON.parse(record.body) as { headers?: Record<string, string>; body?: string };
  const answer: StoredAnswer = { status: record.statusCode, headers: parsed.headers ?? {} };
  if (parsed.body !== undefined) answer.body = parsed.body;
  return answer;
}

function reused(): HttpProblem {
  return new HttpProblem(
    'idempotency-key-reused',
    'this Idempotency-Key was used for a different request (method, path or body); use a new key',
  );
}

export async function claimIdempotencyKey(
  store: IdempotencyCollection,
  clock: Clock,
  key: string,
  hash: string,
): Promise<IdempotencyDecision> {
  const now = clock.now();
  const answered = await store.get(answerKey(key));
  if (live(answered, now)) {
    if (answered.requestHash !== hash) throw reused();
    return { kind: 'replay', answer: decodeAnswer(answered) };
  }
  const lease: IdempotencyRecord = {
    key: leaseKey(key),
    requestHash: hash,
    statusCode: 0,
    body: '{}',
    createdAt: now,
    expireAt: now + LEASE_TTL_MS,
  };
  const claimed = await store.put(lease);
  if (claimed.ok) return { kind: 'proceed', claim: { key, requestHash: hash } };
  const holder = claimed.current;
  if (holder !== undefined && holder.requestHash !== hash) throw reused();
  // The twin is at work (or finished between the first read and the claim): wait for its answer.
  for (let waited = 0; ; waited += TWIN_POLL_MS) {
    const late = await store.get(answerKey(key));
    if (live(late, now)) {
      if (late.requestHash !== hash) throw reused();
      return { kind: 'replay', answer: decodeAnswer(late) };
    }
    if (waited >= TWIN_WAIT_MS) break;
    await new Promise((resolve) => setTimeout(resolve, TWIN_POLL_MS));
  }
  const leaseLeft = Math.ceil(((holder?.expireAt ?? now + LEASE_TTL_MS) - now) / 1000);
  const waitSeconds = Math.max(1, Math.min(MAX_RETRY_AFTER_SECONDS, leaseLeft));
  throw new HttpProblem(
    'idempotency-in-progress',
    `a request with this Idempotency-Key is still in progress after ${TWIN_WAIT_MS / 1000} s; retry later for its answer`,
    { headers: { 'retry-after': String(waitSeconds) } },
  );
}

/**
 * Remembers the answer and returns the one to send: normally `answer`, but the earlier one if a twin
 * that took over an expired lease answered first, so both callers see the same result.
 */
export async function rememberAnswer(
  store: IdempotencyCollection,
  clock: Clock,
  claim: IdempotencyClaim,
  answer: StoredAnswer,
): Promise<StoredAnswer> {
  const now = clock.now();
  const written = await store.put({
    key: answerKey(claim.key),
    requestHash: claim.requestHash,
    statusCode: answer.status,
    body: JSON.stringify({ headers: answer.headers, body: answer.body }),
    createdAt: now,
    expireAt: now + ANSWER_TTL_MS,
  });
  if (written.ok || written.current === undefined || written.current.requestHash !== claim.requestHash)
    return answer;
  return decodeAnswer(written.current);
}
