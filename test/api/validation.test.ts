import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { aPoint, dailyPlan } from './fixtures.js';
import { ECS_ATTEMPTS, startHarness, TOKEN, type CallResult, type Harness } from './harness.js';

const I = 'i-valid0001';
const D_SYS = 'd-valid0001';
const D_DATA = 'd-valid0002';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    seed: {
      instances: [
        {
          instanceId: I,
          disks: [
            { diskId: D_SYS, type: 'system', category: 'cloud_essd' },
            { diskId: D_DATA, type: 'data', category: 'cloud_essd' },
          ],
        },
        {
          instanceId: 'i-other0001',
          disks: [{ diskId: 'd-other0001', type: 'system', category: 'cloud_essd' }],
        },
      ],
    },
  });
});
afterAll(async () => h?.close());
afterEach(async () => h.emulator.admin.clearFaults());

function expectProblem(r: CallResult, status: number, kind: string): void {
  expect(r.status).toBe(status);
  expect(r.headers['content-type']).toBe('application/problem+json');
  expect(r.body).toMatchObject({ type: `urn:ecs-backup:problem:${kind}`, status, title: expect.any(String) });
  expect(typeof r.body.detail).toBe('string');
}

function fieldPaths(r: CallResult): string[] {
  return (r.body.errors as { path: string }[]).map((e) => e.path);
}

/** Sends the request and checks it was refused with `status` and changed nothing. */
async function refused(
  method: string,
  path: string,
  options: Parameters<Harness['call']>[2],
  status: number,
  kind: string,
) {
  const before = h.dump();
  const r = await h.call(method, path, options);
  expectProblem(r, status, kind);
  expect(h.dump()).toEqual(before);
  return r;
}

describe('authentication', () => {
  it('serves /healthz without a credential', async () => {
    const r = await h.call('GET', '/healthz', { token: null });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it('refuses a request without a token with 401 and a Bearer challenge', async () => {
    const r = await refused('GET', '/api/v1/plans', { token: null }, 401, 'unauthorized');
    expect(r.headers['www-authenticate']).toBe('Bearer realm="ecs-backup"');
  });

  it('refuses a wrong token, a token of another length and another scheme', async () => {
    for (const authorization of [
      `Bearer ${TOKEN.slice(0, -1)}x`,
      'Bearer short',
      `Basic ${TOKEN}`,
      'Bearer',
    ]) {
      const r = await refused(
        'POST',
        '/api/v1/plans',
        { headers: { authorization }, body: {} },
        401,
        'unauthorized',
      );
      expect(r.headers['www-authenticate']).toMatch(
        /^Bearer realm="ecs-backup", error="invalid_(token|request)"$/,
      );
    }
  });

  it('accepts the scheme name in any case', async () => {
    const r = await h.call('GET', '/api/v1/plans', { headers: { authorization: `bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
  });

  it('answers 401 rather than 404 for an unknown path, so routes are not discoverable', async () => {
    await refused('GET', '/api/v1/secret-things', { token: null }, 401, 'unauthorized');
  });

  it('refuses everyone when no token is configured', async () => {
    const saved = h.deps.settings;
    h.deps.settings = { ...saved, API_TOKEN: undefined };
    try {
      await refused('GET', '/api/v1/plans', {}, 401, 'unauthorized');
    } finally {
      h.deps.settings = saved;
    }
  });
});

describe('request framing', () => {
  it('400 for malformed JSON', async () => {
    const r = await refused(
      'POST',
      '/api/v1/protected-instances',
      { raw: '{"instanceId": "i-valid0001",' },
      400,
      'malformed-json',
    );
    expect(r.body.detail).toMatch(/not valid JSON/);
  });

  it('400 for a body that is not UTF-8', async () => {
    await refused(
      'POST',
      '/api/v1/plans',
      { raw: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) },
      400,
      'malformed-json',
    );
  });

  it('415 for a body that is not application/json', async () => {
    const body = JSON.stringify({ instanceId: I });
    await refused(
      'POST',
      '/api/v1/protected-instances',
      { raw: body, headers: { 'content-type': 'text/plain' } },
      415,
      'unsupported-media-type',
    );
    await refused(
      'POST',
      '/api/v1/protected-instances',
      { raw: body, headers: { 'content-type': 'application/json; charset=latin1' } },
      415,
      'unsupported-media-type',
    );
  });

  it('accepts application/json with charset=utf-8 and +json types', async () => {
    const r = await h.call('PATCH', '/api/v1/plans/plan-nope', {
      raw: '{"name":"ok-name"}',
      headers: { 'content-type': 'application/merge-patch+json; charset=UTF-8' },
    });
    expectProblem(r, 404, 'not-found');
  });

  it('413 for a body over 64 KB, before it is parsed', async () => {
    const big = JSON.stringify({ instanceId: I, pad: 'x'.repeat(64 * 1024) });
    const r = await refused('POST', '/api/v1/protected-instances', { raw: big }, 413, 'payload-too-large');
    expect(r.body.detail).toContain('65536');
  });

  it('400 when a required body is missing', async () => {
    const r = await refused('POST', '/api/v1/protected-instances', {}, 400, 'validation-failed');
    expect(r.body.errors).toEqual([{ path: '', message: 'a JSON body is required' }]);
  });

  it('400 for a body on a route that takes none (other than {})', async () => {
    const r = await refused(
      'POST',
      '/api/v1/plans/plan-x/run',
      { body: { now: true } },
      400,
      'validation-failed',
    );
    expect(fieldPaths(r)).toEqual(['now']);
  });

  it('404 for an unknown route and 405 with Allow for a known path with another method', async () => {
    await refused('GET', '/api/v1/nothing-here', {}, 404, 'not-found');
    const r = await refused('PUT', '/api/v1/plans', {}, 405, 'method-not-allowed');
    expect(r.headers.allow).toBe('GET, POST');
  });

  it('400 for an event that is not an FC HTTP event', async () => {
    const answer = await h.api(Buffer.from('not json'), { requestId: 'r-bad' });
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body ?? '{}')).toMatchObject({ type: 'urn:ecs-backup:problem:bad-request' });
  });
});

describe('field validation names every bad field', () => {
  const protect = (body: unknown) =>
    refused('POST', '/api/v1/protected-instances', { body }, 400, 'validation-failed');

  it('unknown fields, at every level', async () => {
    const r = await protect({
      instanceId: I,
      extra: 1,
      plan: { ...dailyPlan, colour: 'red', schedule: { ...dailyPlan.schedule, cron: '* * *' } },
    });
    expect(fieldPaths(r).sort()).toEqual(['extra', 'plan.colour', 'plan.schedule.cron']);
    expect(r.body.errors[0].message).toBe('unknown field');
  });

  it('missing required fields', async () => {
    const r = await protect({ plan: { name: 'x-plan' } });
    expect(fieldPaths(r).sort()).toEqual(['instanceId', 'plan.retention']);
    expect(r.body.errors.every((e: { message: string }) => e.message === 'required')).toBe(true);
  });

  it('bad instance and disk ids', async () => {
    const r = await protect({ instanceId: 'I-UPPER', disks: ['d-ok000001', 'disk-2', 'd-ok000001'] });
    expect(fieldPaths(r)).toContain('instanceId');
    expect(fieldPaths(r).some((p) => p.startsWith('disks'))).toBe(true);
  });

  it('start times without seconds or without an offset', async () => {
    for (const startAt of ['2026-12-01T02:00+08:00', '2026-12-01T02:00:00', '2026-12-01', 'tomorrow']) {
      const r = await protect({
        instanceId: I,
        plan: { ...dailyPlan, schedule: { ...dailyPlan.schedule, startAt } },
      });
      expect(fieldPaths(r)).toEqual(['plan.schedule.startAt']);
    }
  });

  it('intervals and retention out of bounds', async () => {
    const r = await protect({
      instanceId: I,
      plan: {
        ...dailyPlan,
        schedule: { ...dailyPlan.schedule, every: { value: 367, unit: 'days' } },
        retention: { value: 101, unit: 'years' },
        longTerm: [{ period: 'month', keep: { value: 0, unit: 'years' } }],
      },
    });
    expect(fieldPaths(r).sort()).toEqual([
      'plan.longTerm[0].keep.value',
      'plan.retention.value',
      'plan.schedule.every.value',
    ]);
  });

  it('wrong types and enum values', async () => {
    const r = await protect({
      instanceId: I,
      plan: {
        ...dailyPlan,
        retention: { value: '30', unit: 'fortnights' },
        consistency: { timeoutSeconds: 1801 },
        keepLatest: 'yes',
      },
    });
    expect(fieldPaths(r).sort()).toEqual([
      'plan.consistency.timeoutSeconds',
      'plan.keepLatest',
      'plan.retention.unit',
      'plan.retention.value',
    ]);
  });

  it('a body that is not an object', async () => {
    for (const body of [[], 'text', 42, null]) {
      const r = await protect(body);
      expect(r.body.errors.length).toBeGreaterThan(0);
    }
  });

  it('query parameters are named query.<name>', async () => {
    const r = await refused(
      'GET',
      '/api/v1/jobs',
      { query: { limit: '0', status: 'DONE', from: '2026-01-01', sort: 'x' } },
      400,
      'validation-failed',
    );
    expect(fieldPaths(r).sort()).toEqual(['query.from', 'query.limit', 'query.sort', 'query.status[0]']);
  });

  it('a query parameter on a route that takes none', async () => {
    const r = await refused(
      'GET',
      '/api/v1/plans/plan-x',
      { query: { verbose: '1' } },
      400,
      'validation-failed',
    );
    expect(r.body.errors).toEqual([{ path: 'query.verbose', message: 'unknown field' }]);
  });

  it('a cursor the list did not issue', async () => {
    const r = await refused(
      'GET',
      '/api/v1/backups',
      { query: { cursor: 'bm90LWEtY3Vyc29y' } },
      400,
      'validation-failed',
    );
    expect(fieldPaths(r)).toEqual(['query.cursor']);
    const i = await refused(
      'GET',
      '/api/v1/instances',
      { query: { cursor: '!!!' } },
      400,
      'validation-failed',
    );
    expect(fieldPaths(i)).toEqual(['query.cursor']);
  });

  it('path ids are named path.<name>', async () => {
    const r = await refused('GET', '/api/v1/protected-instances/not-an-id', {}, 400, 'validation-failed');
    expect(fieldPaths(r)).toEqual(['path.instanceId']);
  });

  it('a disk that is not attached to the instance', async () => {
    const r = await protect({ instanceId: I, disks: [D_SYS, 'd-other0001'] });
    expect(r.body.errors).toEqual([
      { path: 'disks[1]', message: `disk d-other0001 is not attached to ${I}` },
    ]);
  });

  it('an expiry that is not in the future', async () => {
    await h.store.points.create(aPoint({ id: 'pt-valid-1', instanceId: I }));
    const r = await refused(
      'PATCH',
      '/api/v1/backups/pt-valid-1',
      { body: { expireAt: '2020-01-01T00:00:00Z' } },
      400,
      'validation-failed',
    );
    expect(fieldPaths(r)).toEqual(['expireAt']);
  });
});

describe('unknown resources and conflicts', () => {
  it('404 for each kind of resource', async () => {
    await refused('GET', '/api/v1/plans/plan-missing', {}, 404, 'not-found');
    await refused('GET', '/api/v1/jobs/job-missing', {}, 404, 'not-found');
    await refused('GET', '/api/v1/backups/pt-missing', {}, 404, 'not-found');
    await refused('GET', '/api/v1/protected-instances/i-missing01', {}, 404, 'not-found');
    await refused('POST', '/api/v1/plans/plan-missing/run', {}, 404, 'not-found');
    await refused('POST', '/api/v1/jobs/job-missing/cancel', {}, 404, 'not-found');
    await refused('DELETE', '/api/v1/backups/pt-missing', {}, 404, 'not-found');
    const r = await refused(
      'POST',
      '/api/v1/protected-instances',
      { body: { instanceId: 'i-nosuch001' } },
      404,
      'not-found',
    );
    expect(r.body.detail).toBe('ECS instance i-nosuch001 does not exist');
  });

  it('409 when the instance is already protected by another plan', async () => {
    const first = await h.call('POST', '/api/v1/protected-instances', {
      body: { instanceId: 'i-other0001', plan: dailyPlan },
    });
    expect(first.status).toBe(201);
    const again = await refused(
      'POST',
      '/api/v1/protected-instances',
      { body: { instanceId: 'i-other0001', plan: dailyPlan } },
      409,
      'conflict',
    );
    expect(again.body.detail).toContain(first.body.plan.id);
    await refused(
      'POST',
      '/api/v1/plans',
      { body: { instanceId: 'i-other0001', plan: dailyPlan } },
      409,
      'conflict',
    );
  });

  it('409 when deleting a point in use, with the reason', async () => {
    await h.store.points.create(aPoint({ id: 'pt-in-use', instanceId: I, inUseBy: ['job-mount-1'] }));
    const r = await refused('DELETE', '/api/v1/backups/pt-in-use', {}, 409, 'conflict');
    expect(r.body.detail).toContain('job-mount-1');
  });
});

describe('server errors', () => {
  function loggedError(r: CallResult): string {
    const entry = h.logs.find((l) => l.level === 'error' && l.fields?.requestId === r.body.requestId);
    return String(entry?.fields?.error);
  }

  it('an unexpected failure is a 500 with a generic detail; the log has the cause', async () => {
    // The real database refusing writes (as on a volume gone read-only) is a failure no route expects.
    h.store.db.pragma('query_only = ON');
    let r: CallResult;
    try {
      r = await refused('POST', '/api/v1/protected-instances', { body: { instanceId: I } }, 500, 'internal');
    } finally {
      h.store.db.pragma('query_only = OFF');
    }
    expect(r.text).not.toContain('readonly');
    expect(r.text).not.toContain('SQLITE');
    expect(r.body.requestId).toEqual(expect.any(String));
    expect(loggedError(r)).toContain('attempt to write a readonly database');
  });

  it('a cloud failing every attempt is a 503 without the cloud message; the log has it', async () => {
    await h.emulator.admin.failNext({
      action: 'DescribeInstances',
      count: ECS_ATTEMPTS,
      code: 'InternalError',
      status: 500,
      message: 'socket hang up at 10.0.0.7:443 secret=abc',
    });
    const r = await refused(
      'POST',
      '/api/v1/protected-instances',
      { body: { instanceId: I } },
      503,
      'upstream-unavailable',
    );
    expect(r.text).not.toContain('socket');
    expect(r.text).not.toContain('secret');
    expect(r.body.requestId).toEqual(expect.any(String));
    expect(loggedError(r)).toContain('socket hang up');
  });

  it('a cloud refusal is a 502 without the cloud message, after one attempt', async () => {
    const since = Date.now();
    await h.emulator.admin.failNext({
      action: 'DescribeInstances',
      code: 'Forbidden.RAM',
      status: 403,
      message: 'User not authorized to operate on the specified resource, account 1234567890.',
    });
    const r = await refused(
      'POST',
      '/api/v1/protected-instances',
      { body: { instanceId: I } },
      502,
      'upstream-failed',
    );
    expect(r.text).not.toContain('1234567890');
    expect(loggedError(r)).toContain('account 1234567890');
    expect((await h.emulator.admin.calls({ action: 'DescribeInstances', since })).length).toBe(1);
  });

  it('a throttled cloud is a 503 with Retry-After, without the cloud message', async () => {
    await h.emulator.admin.throttle({ action: 'DescribeInstances', fraction: 1 });
    const r = await refused(
      'POST',
      '/api/v1/protected-instances',
      { body: { instanceId: I } },
      503,
      'upstream-unavailable',
    );
    expect(r.headers['retry-after']).toBe('5');
    expect(r.text).not.toContain('flow control');
  });
});
