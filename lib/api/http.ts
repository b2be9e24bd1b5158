import type { FcHttpEvent } from '../runtime/fc.js';
import { HttpProblem } from './problem.js';

/** A request as the routes see it: header names lower-cased, body bytes decoded from the FC event. */
export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: Buffer;
  requestId: string;
}

export interface ApiResponse {
  status: number;
  /** Serialised as JSON; absent = no body. */
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Decodes the FC 3.0 HTTP trigger event. A malformed event is the platform's fault or a direct
 * invocation with a wrong payload; either way it is answered with 400, never a crash.
 */
export function decodeFcHttpEvent(raw: Buffer | string | object, fallbackRequestId: string): ApiRequest {
  let event: Partial<FcHttpEvent>;
  try {
    if (Buffer.isBuffer(raw)) event = JSON.parse(raw.toString('utf8')) as Partial<FcHttpEvent>;
    else if (typeof raw === 'string') event = JSON.parse(raw) as Partial<FcHttpEvent>;
    else event = raw as Partial<FcHttpEvent>;
  } catch (err) {
    throw new HttpProblem('bad-request', 'the function was invoked with an event that is not JSON', {
      cause: err,
    });
  }
  if (event === null || typeof event !== 'object') {
    throw new HttpProblem('bad-request', 'the function was invoked with an event that is not an HTTP event');
  }
  const method = event.requestContext?.http?.method;
  const path = event.rawPath ?? event.requestContext?.http?.path;
  if (typeof method !== 'string' || typeof path !== 'string') {
    throw new HttpProblem('bad-request', 'the function was invoked with an event that is not an HTTP event');
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    const v = value as unknown;
    if (typeof v === 'string') headers[name.toLowerCase()] = v;
    else if (Array.isArray(v)) headers[name.toLowerCase()] = v.map(String).join(', ');
  }
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryParameters ?? {})) {
    const v = value as unknown;
    // A repeated parameter is joined with commas, as FC's HTTP trigger does, so no value is dropped:
    // validation then reads it as a list where a list is meant and refuses it everywhere else.
    if (typeof v === 'string') query[name] = v;
    else if (Array.isArray(v)) query[name] = v.map(String).join(',');
  }
  const text = typeof event.body === 'string' ? event.body : '';
  const body = event.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return {
    method: method.toUpperCase(),
    path: normalisePath(path),
    query,
    headers,
    body,
    requestId: event.requestContext?.requestId ?? fallbackRequestId,
  };
}

function normalisePath(path: string): string {
  const withoutTrailing = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return withoutTrailing === '' ? '/' : withoutTrailing;
}

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The JSON body of a write request. Media type, size and syntax are checked here, before any
 * field is looked at, so those failures get their own status codes (415, 413, 400).
 */
export function parseJsonBody(request: ApiRequest): unknown {
  if (request.body.length === 0) return undefined;
  if (request.body.length > MAX_BODY_BYTES) {
    throw new HttpProblem(
      'payload-too-large',
      `the body is ${request.body.length} bytes; the limit is ${MAX_BODY_BYTES}`,
    );
  }
  const contentType = request.headers['content-type'];
  if (!isJsonMediaType(contentType)) {
    throw new HttpProblem(
      'unsupported-media-type',
      contentType === undefined
        ? 'a body needs Content-Type: application/json'
        : `Content-Type ${contentType} is not supported; send application/json`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(request.body);
  } catch (err) {
    throw new HttpProblem('malformed-json', 'the body is not valid UTF-8', { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpProblem('malformed-json', `the body is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [essence, ...params] = contentType.split(';').map((s) => s.trim().toLowerCase());
  if (essence !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(essence ?? ''))
    return false;
  // JSON is UTF-8 (RFC 8259 §8.1); another declared charset would be decoded wrongly.
  return params.every((p) => !p.startsWith('charset=') || /^charset="?utf-8"?$/.test(p));
}
