import { describe, expect, it } from 'vitest';
import { checkBearer, tokensEqual } from '../../lib/api/auth.js';
import { decodeFcHttpEvent, parseJsonBody } from '../../lib/api/http.js';
import { requestHash } from '../../lib/api/idempotency.js';
import { HttpProblem } from '../../lib/api/problem.js';
import { defineRoute, Router } from '../../lib/api/router.js';
import { fcEvent } from './harness.js';

const noop = async () => ({ status: 204 });

describe('Router', () => {
  const router = new Router([
    defineRoute({
      method: 'GET',
      path: '/api/v1/plans',
      operationId: 'a',
      summary: 'a',
      tag: 't',
      responses: {},
      handle: noop,
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/plans',
      operationId: 'b',
      summary: 'b',
      tag: 't',
      responses: {},
      handle: noop,
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/plans/{planId}',
      operationId: 'c',
      summary: 'c',
      tag: 't',
      responses: {},
      handle: noop,
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/plans/{planId}/run',
      operationId: 'd',
      summary: 'd',
      tag: 't',
      responses: {},
      handle: noop,
    }),
  ]);

  it('matches templates and decodes parameters', () => {
    const m = router.match('GET', '/api/v1/plans/plan%2Dx');
    expect(m).toMatchObject({ kind: 'found', params: { planId: 'plan-x' } });
    expect(router.match('POST', '/api/v1/plans/p1/run')).toMatchObject({
      kind: 'found',
      params: { planId: 'p1' },
    });
  });

  it('tells a wrong method from an unknown path', () => {
    expect(router.match('DELETE', '/api/v1/plans')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'POST'],
    });
    expect(router.match('GET', '/api/v1/plans/a/b')).toEqual({ kind: 'not-found' });
    expect(router.match('GET', '/api/v1/plans/%E0%A4%A')).toEqual({ kind: 'not-found' });
    expect(router.match('GET', '/api/v1/plansx')).toEqual({ kind: 'not-found' });
  });
});

describe('bearer token', () => {
  it('compares tokens of any length without throwing', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abd')).toBe(false);
    expect(tokensEqual('', 'a'.repeat(1000))).toBe(false);
  });

  it('raises 401 problems with a challenge', () => {
    expect(() => checkBearer('Bearer right-token-123', 'right-token-123')).not.toThrow();
    try {
      checkBearer('Bearer wrong', 'right-token-123');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HttpProblem);
      expect((err as HttpProblem).status).toBe(401);
      expect((err as HttpProblem).headers['www-authenticate']).toContain('error="invalid_token"');
    }
  });
});

describe('FC HTTP event decoding', () => {
  it('lower-cases headers, decodes base64 bodies, trims a trailing slash', () => {
    const event = fcEvent('post', '/api/v1/plans/', {
      raw: Buffer.from('{"a":1}'),
      headers: { 'Content-Type': 'application/json' },
    });
    const req = decodeFcHttpEvent(Buffer.from(JSON.stringify(event)), 'fallback');
    expect(req).toMatchObject({
      method: 'POST',
      path: '/api/v1/plans',
      headers: { 'content-type': 'application/json' },
    });
    expect(parseJsonBody(req)).toEqual({ a: 1 });
  });

  it('keeps every value of a repeated query parameter, joined with commas as FC does', () => {
    const event = { ...fcEvent('GET', '/x'), queryParameters: { status: ['FAILED', 'COMPLETE'] } };
    expect(decodeFcHttpEvent(event, 'r').query).toEqual({ status: 'FAILED,COMPLETE' });
  });
});

describe('idempotency request hash', () => {
  it('ignores key order but not values, paths or methods', () => {
    const a = requestHash('POST', '/p', { x: 1, y: { b: 2, a: [1, { d: 1, c: 2 }] } });
    expect(requestHash('POST', '/p', { y: { a: [1, { c: 2, d: 1 }], b: 2 }, x: 1 })).toBe(a);
    expect(requestHash('POST', '/p', { x: 2, y: { b: 2, a: [1, { d: 1, c: 2 }] } })).not.toBe(a);
    expect(requestHash('POST', '/q', { x: 1, y: { b: 2, a: [1, { d: 1, c: 2 }] } })).not.toBe(a);
    expect(requestHash('POST', '/p', undefined)).not.toBe(requestHash('POST', '/p', {}));
  });
});
