import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/api/openapi.js';
import { routes } from '../../lib/api/routes/index.js';
import { aPoint, dailyPlan } from './fixtures.js';
import { startHarness, TOKEN, type CallResult, type Harness } from './harness.js';

/**
 * Every operation of the OpenAPI document, walked with no token, a wrong token and a token that
 * differs from the right one only in its last character: each is a 401 with a Bearer challenge on
 * every route but `/healthz`, and nothing changes. The ids in the paths name real resources, so a
 * route that forgot its credential would answer (and act) rather than 404.
 */

const I = 'i-auth00001';
let h: Harness;
let planId = '';

beforeAll(async () => {
  h = await startHarness({
    seed: {
      instances: [
        { instanceId: I, disks: [{ diskId: 'd-auth00001', type: 'system', category: 'cloud_essd' }] },
      ],
    },
  });
  const r = await h.call('POST', '/api/v1/protected-instances', { body: { instanceId: I, plan: dailyPlan } });
  expect(r.status).toBe(201);
  planId = r.body.plan.id;
  await h.store.points.create(aPoint({ id: 'pt-auth-1', instanceId: I }));
}, 60_000);
afterAll(async () => h?.close());

const OPERATIONS = Object.entries(
  (openApiDocument(routes) as { paths: Record<string, Record<string, { operationId: string }>> }).paths,
).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({
    method: method.toUpperCase(),
    path,
    operationId: op.operationId,
  })),
);

const lastCharOff = TOKEN.slice(0, -1) + (TOKEN.endsWith('f') ? 'e' : 'f');
const BAD_CREDENTIALS: [string, string | null][] = [
  ['no token', null],
  ['a wrong token', 'not-the-token-at-all-0000'],
  ['the token with its last character changed', lastCharOff],
];

function fill(path: string): string {
  const values: Record<string, string> = {
    instanceId: I,
    planId,
    backupId: 'pt-auth-1',
    jobId: 'job-auth-1',
    subscriptionId: 'sub-auth-1',
    exportId: 'export-auth-1',
    ruleId: 'rule-auth-1',
  };
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${path}`);
    return value;
  });
}

function expectUnauthorized(r: CallResult, what: string): void {
  expect(r.status, `${what}: ${r.text}`).toBe(401);
  expect(r.headers['www-authenticate'], what).toMatch(/^Bearer realm="ecs-backup"/);
  expect(r.headers['content-type'], what).toBe('application/problem+json');
  expect(r.body.type, what).toBe('urn:ecs-backup:problem:unauthorized');
}

describe('every operation of the OpenAPI document needs the token', () => {
  it('walks all of them: 401 three ways on each but /healthz, which answers everyone', async () => {
    expect(lastCharOff).not.toBe(TOKEN);
    expect(lastCharOff.slice(0, -1)).toBe(TOKEN.slice(0, -1));
    const before = h.dump();
    let walked = 0;
    let refusals = 0;
    for (const { method, path, operationId } of OPERATIONS) {
      walked += 1;
      for (const [how, token] of BAD_CREDENTIALS) {
        const body = ['POST', 'PATCH'].includes(method) ? {} : undefined;
        const r = await h.call(method, fill(path), { token, ...(body === undefined ? {} : { body }) });
        if (path === '/healthz') {
          expect(r.status, `${operationId} with ${how}`).toBe(200);
          continue;
        }
        expectUnauthorized(r, `${method} ${path} (${operationId}) with ${how}`);
        refusals += 1;
      }
    }
    expect(walked).toBeGreaterThanOrEqual(35);
    expect(walked).toBe(routes.length);
    expect(refusals).toBe((walked - 1) * BAD_CREDENTIALS.length);
    expect(h.dump()).toEqual(before);
  });

  it('the right token on the same walk reaches the routes (the walk is not refused for another reason)', async () => {
    const r = await h.call('GET', fill('/api/v1/plans/{planId}'));
    expect(r.status).toBe(200);
    const openapi = await h.call('GET', '/api/v1/openapi.json');
    expect(openapi.status).toBe(200);
  });
});
