import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/api/openapi.js';
import { routes } from '../../lib/api/routes/index.js';
import { aJob, aPoint, dailyPlan } from './fixtures.js';
import { startHarness, T0, type Harness } from './harness.js';

/**
 * Random bodies (and, for DELETE, random query strings) against every write route of the OpenAPI
 * document: the API never answers 5xx, every refusal is a problem document, and a refused request
 * leaves every table exactly as it was.
 */

const RUNS = 1000;
const PROTECTED = 'i-prop00001';
const FREE = 'i-prop00002';
const POINT = 'pt-prop-1';
const MOUNTED_POINT = 'pt-prop-2';
const JOB = 'job-prop-1';
const MOUNT_JOB = 'job-prop-mount';
const POINT_DISKS = ['d-prop00001', 'd-prop00002'];

let h: Harness;
let planId = '';
let subscriptionId = '';
let ruleId = '';

/** Each route starts from the same small state, so the table dumps stay cheap. */
beforeEach(async () => {
  h = await startHarness({
    seed: {
      instances: [
        {
          instanceId: PROTECTED,
          disks: [
            { diskId: 'd-prop00001', type: 'system', category: 'cloud_essd' },
            { diskId: 'd-prop00002', type: 'data', category: 'cloud_essd' },
          ],
        },
        { instanceId: FREE, disks: [{ diskId: 'd-prop00003', type: 'system', category: 'cloud_auto' }] },
      ],
    },
  });
  const r = await h.call('POST', '/api/v1/protected-instances', {
    body: { instanceId: PROTECTED, plan: dailyPlan },
  });
  expect(r.status).toBe(201);
  planId = r.body.plan.id;
  const snapshots = POINT_DISKS.map((diskId, i) => ({
    diskId,
    snapshotId: `s-prop-${i}`,
    diskType: i === 0 ? ('system' as const) : ('data' as const),
    category: 'cloud_essd',
    sizeGiB: 40,
  }));
  await h.store.points.create(aPoint({ id: POINT, instanceId: PROTECTED, snapshots }));
  await h.store.jobs.create(
    aJob({ id: JOB, instanceId: PROTECTED, status: 'RUNNING', step: 'poll', finishedAt: null }),
  );
  // A mount in place, so that unmount has something to unmount.
  await h.store.points.create(
    aPoint({ id: MOUNTED_POINT, instanceId: PROTECTED, snapshots, inUseBy: [MOUNT_JOB] }),
  );
  await h.store.jobs.create(
    aJob({
      id: MOUNT_JOB,
      type: 'mount',
      instanceId: FREE,
      state: {
        pointId: MOUNTED_POINT,
        targets: [{ diskId: POINT_DISKS[0], snapshotId: 's-prop-0', category: 'cloud_essd' }],
        diskId: 'd-mounted01',
        device: '/dev/xvdc',
        mountedAt: T0,
        expiresAt: T0 + 86_400_000,
      },
    }),
  );
  const sub = await h.call('POST', '/api/v1/subscriptions', {
    body: { url: 'https://hooks.example.com/prop', events: ['job.failed'] },
  });
  expect(sub.status).toBe(201);
  subscriptionId = sub.body.id;
  const rule = await h.call('POST', '/api/v1/protection-rules', {
    body: { name: 'prop-rule', priority: 10, match: { tags: { env: 'prop' } }, plan: dailyPlan },
  });
  expect(rule.status).toBe(201);
  ruleId = rule.body.id;
  // Exports: a finished one to delete, a running one to cancel.
  const exportParams = { backupId: POINT, diskId: POINT_DISKS[0], targetInstanceId: FREE, paths: ['/etc'] };
  await h.store.jobs.create(
    aJob({ id: 'export-prop-done', type: 'export', instanceId: FREE, params: exportParams }),
  );
  await h.store.jobs.create(
    aJob({
      id: 'export-prop-running',
      type: 'export',
      instanceId: FREE,
      status: 'RUNNING',
      step: 'wait-guest',
      finishedAt: null,
      params: exportParams,
    }),
  );
}, 60_000);
afterEach(async () => h?.close());

// ---------------------------------------------------------------- generators

const anyJson = fc.jsonValue({ maxDepth: 3 });
const oddNumber = fc.oneof(
  fc.integer({ min: -10, max: 40_000 }),
  fc.double({ noNaN: true }),
  fc.constantFrom(0, 1, 366, 367, 1800, 1801, 36_600, 36_601, Number.MAX_SAFE_INTEGER),
);
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '<script>', 'a'.repeat(200)),
);

const interval = fc.record(
  {
    value: fc.oneof(oddNumber, anyJson),
    unit: fc.oneof(fc.constantFrom('hours', 'days', 'weeks', 'months'), text),
  },
  { requiredKeys: [] },
);
const retention = fc.record(
  {
    value: fc.oneof(oddNumber, anyJson),
    unit: fc.oneof(fc.constantFrom('days', 'weeks', 'months', 'years', 'decades'), text),
  },
  { requiredKeys: [] },
);
const schedule = fc.record(
  {
    startAt: fc.oneof(
      fc.constantFrom(
        '2026-12-01T02:00:00+08:00',
        '2026-12-01T02:00+08:00',
        '2026-12-01T02:00:00',
        '2026-02-30T00:00:00Z',
        '2026-12-01T02:00:00.5Z',
      ),
      text,
      anyJson,
    ),
    every: fc.oneof(interval, anyJson),
    cron: anyJson,
  },
  { requiredKeys: [] },
);
const consistency = fc.record(
  {
    applicationConsistent: fc.oneof(fc.boolean(), anyJson),
    fsFreeze: fc.oneof(fc.boolean(), anyJson),
    windowsWriters: fc.boolean(),
    timeoutSeconds: fc.oneof(oddNumber, anyJson),
    onPreScriptFailure: fc.oneof(fc.constantFrom('continue', 'fail', 'ignore'), anyJson),
    onAgentUnavailable: fc.constantFrom('continue', 'fail', 'panic'),
    unknown: anyJson,
  },
  { requiredKeys: [] },
);
const plan = fc.record(
  {
    name: fc.oneof(
      fc.constantFrom('web-daily', '1starts-with-digit', 'http://x', 'ok.name_1:2-3', 'x'),
      text,
    ),
    schedule: fc.oneof(schedule, fc.constant(null), anyJson),
    retention: fc.oneof(retention, anyJson),
    longTerm: fc.oneof(
      fc.array(
        fc.record(
          { period: fc.constantFrom('week', 'month', 'year', 'day'), keep: retention },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
      anyJson,
    ),
    consistency: fc.oneof(consistency, anyJson),
    timeZone: fc.oneof(fc.constantFrom('UTC', 'Asia/Shanghai', 'Mars/Olympus', 'utc'), text),
    keepLatest: fc.oneof(fc.boolean(), anyJson),
    extra: anyJson,
  },
  { requiredKeys: [] },
);
const instanceId = fc.oneof(fc.constantFrom(PROTECTED, FREE, 'i-nosuch0001', 'i-UPPER001', 'i-', 'x'), text);
const disks = fc.oneof(
  fc.constant('all'),
  fc.array(
    fc.oneof(fc.constantFrom(...['d-prop00001', 'd-prop00002', 'd-prop00003', 'd-nosuch001', 'd-x']), text),
    { maxLength: 4 },
  ),
  anyJson,
);
const instant = fc.oneof(
  fc.constantFrom(
    '2030-01-01T00:00:00Z',
    '2020-01-01T00:00:00Z',
    '2030-01-01',
    '2030-01-01T00:00:00',
    '2030-01-01T00:00:00+25:00',
  ),
  text,
  anyJson,
);

/** A fair choice: fc.oneof favours its first option inside nested structures. */
function either<A, B>(a: fc.Arbitrary<A>, b: fc.Arbitrary<B>): fc.Arbitrary<A | B> {
  return fc.boolean().chain((first): fc.Arbitrary<A | B> => (first ? a : b));
}

// Well-formed bodies, so that many requests get past validation to the checks that need the store
// and the cloud (unknown instance, disk not attached, already protected) and to real writes.
const validRetention = fc.record({
  value: fc.integer({ min: 1, max: 100 }),
  unit: fc.constantFrom('days', 'weeks', 'months', 'years'),
});
const validPlan = fc.record(
  {
    name: fc.constantFrom('web-daily', 'db.nightly', 'Ops:1'),
    schedule: fc.record({
      startAt: fc.constantFrom('2026-12-01T02:00:00+08:00', '2027-01-01T00:00:00Z'),
      every: fc.record({
        value: fc.integer({ min: 1, max: 52 }),
        unit: fc.constantFrom('hours', 'days', 'weeks'),
      }),
    }),
    retention: validRetention,
    longTerm: fc.constantFrom([], [{ period: 'month', keep: { value: 1, unit: 'years' } }]),
    consistency: fc.record(
      { applicationConsistent: fc.boolean(), timeoutSeconds: fc.integer({ min: 1, max: 1800 }) },
      { requiredKeys: [] },
    ),
    timeZone: fc.constantFrom('UTC', 'Asia/Shanghai'),
    keepLatest: fc.boolean(),
    // Copies to other regions: good, unknown, the plan's own, more than 3, a region twice.
    copies: fc.constantFrom<unknown>(
      [],
      [{ regionId: 'cn-shanghai', retention: { value: 1, unit: 'months' } }],
      [{ regionId: 'cn-nowhere', retention: { value: 1, unit: 'months' } }],
      [{ regionId: 'cn-hangzhou', retention: { value: 1, unit: 'months' } }],
      ['cn-shanghai', 'cn-beijing', 'cn-shenzhen', 'us-east-1'].map((regionId) => ({
        regionId,
        retention: { value: 1, unit: 'days' },
      })),
      [
        { regionId: 'cn-shanghai', retention: { value: 1, unit: 'days' } },
        { regionId: 'cn-shanghai', retention: { value: 2, unit: 'days' } },
      ],
    ),
  },
  { requiredKeys: ['retention'] },
);
const validDisks = fc.constantFrom<unknown>(
  'all',
  ['d-prop00001'],
  ['d-prop00002', 'd-prop00001'],
  ['d-prop00003'],
  ['d-nosuch001'],
);
const validInstance = fc.constantFrom(PROTECTED, FREE, 'i-nosuch0001');

const protectBody = either(
  fc.record({ instanceId, disks, plan: fc.oneof(plan, anyJson), extra: anyJson }, { requiredKeys: [] }),
  fc.record(
    { instanceId: validInstance, disks: validDisks, plan: validPlan },
    { requiredKeys: ['instanceId'] },
  ),
);
const createPlanBody = either(
  protectBody,
  fc.record(
    { instanceId: validInstance, disks: validDisks, plan: validPlan },
    { requiredKeys: ['instanceId', 'plan'] },
  ),
);
const planChange = either(
  fc.oneof(plan, fc.record({ disks, name: text }, { requiredKeys: [] })),
  fc.record({ disks: validDisks, retention: validRetention }, { requiredKeys: [] }),
);
const backupNow = either(
  fc.record(
    { disks, retention: fc.oneof(retention, anyJson), longTerm: anyJson, consistency, extra: anyJson },
    { requiredKeys: [] },
  ),
  fc.record({ disks: validDisks, retention: validRetention }, { requiredKeys: [] }),
);
const backupPatch = either(
  fc.record({ expireAt: instant, extra: anyJson }, { requiredKeys: [] }),
  fc.record({
    expireAt: fc.constantFrom('2030-01-01T00:00:00Z', '2020-01-01T00:00:00Z', '2031-06-30T12:00:00+08:00'),
  }),
);
const emptyish = fc.oneof(fc.constant({}), anyJson, fc.record({ now: anyJson }));

const diskOfPoint = fc.oneof(fc.constantFrom(...POINT_DISKS, 'd-prop00003', 'd-nosuch001'), text, anyJson);
const restoreBody = either(
  fc.record(
    {
      mode: fc.oneof(
        fc.constantFrom('rollback-disk', 'rollback-instance', 'clone-disk', 'clone-instance', 'replace'),
        text,
      ),
      diskId: diskOfPoint,
      targetInstanceId: fc.oneof(instanceId, anyJson),
      stopInstance: fc.oneof(fc.boolean(), anyJson),
      regionId: fc.oneof(fc.constantFrom('cn-shanghai', 'cn-hangzhou', 'cn-nowhere', 'Shanghai'), anyJson),
      instanceType: fc.oneof(
        fc.constantFrom('ecs.g7.large', 'ecs.c7.large', 'ecs.nope.large'),
        text,
        anyJson,
      ),
      vSwitchId: fc.oneof(fc.constantFrom('vsw-hemulator00000000', 'vsw-nowhere0001'), text, anyJson),
      securityGroupIds: fc.oneof(
        fc.array(fc.constantFrom('sg-emulator000000000001', 'sg-x'), { maxLength: 7 }),
        anyJson,
      ),
      password: fc.oneof(text, anyJson),
      tags: fc.oneof(fc.array(fc.record({ key: text, value: text }), { maxLength: 3 }), anyJson),
      keepImage: fc.oneof(fc.boolean(), anyJson),
      extra: anyJson,
    },
    { requiredKeys: [] },
  ),
  fc.oneof(
    fc.record(
      {
        mode: fc.constant('clone-instance'),
        instanceType: fc.constantFrom('ecs.g7.large', 'ecs.c7.large', 'ecs.r7.large'),
        vSwitchId: fc.constantFrom('vsw-hemulator00000000', 'vsw-iemulator00000000', 'vsw-nowhere0001'),
        securityGroupIds: fc.constant(['sg-emulator000000000001']),
        instanceName: fc.constantFrom('clone-prop', '9bad'),
        keepImage: fc.boolean(),
      },
      { requiredKeys: ['mode'] },
    ),
    fc.record(
      {
        mode: fc.constant('clone-disk'),
        diskId: fc.constantFrom(...POINT_DISKS, 'd-nosuch001'),
        targetInstanceId: validInstance,
        // The backup has no copy anywhere: a copy region is refused (409), its own region is the backup.
        regionId: fc.constantFrom('cn-shanghai', 'cn-hangzhou', 'cn-nowhere'),
      },
      { requiredKeys: ['mode', 'diskId', 'targetInstanceId'] },
    ),
    fc.record(
      {
        mode: fc.constant('rollback-disk'),
        diskId: fc.constantFrom(...POINT_DISKS),
        stopInstance: fc.boolean(),
      },
      { requiredKeys: ['mode', 'diskId'] },
    ),
    fc.record(
      { mode: fc.constant('rollback-instance'), stopInstance: fc.boolean() },
      { requiredKeys: ['mode'] },
    ),
  ),
);
const mountBody = either(
  fc.record(
    {
      diskId: diskOfPoint,
      targetInstanceId: fc.oneof(instanceId, anyJson),
      ttlHours: fc.oneof(oddNumber, anyJson),
      extra: anyJson,
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      diskId: fc.constantFrom(...POINT_DISKS, 'd-nosuch001'),
      targetInstanceId: validInstance,
      ttlHours: fc.integer({ min: 1, max: 168 }),
    },
    { requiredKeys: ['diskId', 'targetInstanceId'] },
  ),
);

const exportBody = either(
  fc.record(
    {
      diskId: diskOfPoint,
      paths: fc.oneof(
        fc.array(fc.oneof(text, fc.constantFrom('/etc', 'etc', '/a/../b', 'C:\\x')), { maxLength: 4 }),
        anyJson,
      ),
      targetInstanceId: fc.oneof(instanceId, anyJson),
      extra: anyJson,
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      diskId: fc.constantFrom(...POINT_DISKS, 'd-nosuch001'),
      paths: fc.array(fc.constantFrom('/etc', '/var/www', '/srv/data.txt'), { minLength: 1, maxLength: 3 }),
      targetInstanceId: validInstance,
    },
    { requiredKeys: ['paths'] },
  ),
);

/** DELETE takes no body: its input is the query string. */
const deleteQuery = fc.dictionary(
  fc.oneof(fc.constantFrom('confirm', 'force', 'cursor', 'limit'), fc.string({ maxLength: 10 })),
  fc.oneof(fc.constantFrom('last-good-backup', 'true', ''), text),
  { maxKeys: 3 },
);

interface Sent {
  raw: string;
  contentType: string | undefined;
}

/** Structured bodies most of the time, any JSON or broken text otherwise, under various media types. */
function bodies(structured: fc.Arbitrary<unknown>): fc.Arbitrary<Sent> {
  const json = fc.oneof(
    { weight: 6, arbitrary: structured.map((v) => JSON.stringify(v) ?? '') },
    { weight: 2, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 1, arbitrary: structured.map((v) => (JSON.stringify(v) ?? '').slice(0, -1)) },
  );
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        undefined,
        'text/plain',
        'application/json; charset=latin1',
        'application/x-www-form-urlencoded',
      ),
    },
  );
  return fc.record({ raw: json, contentType });
}

// ---------------------------------------------------------------- the property

type Input = { kind: 'body'; sent: Sent } | { kind: 'query'; query: Record<string, string> };

async function checkRoute(
  method: string,
  path: () => string,
  inputs: fc.Arbitrary<Input>,
): Promise<{ refused: number; accepted: number; statuses: Record<number, number> }> {
  const tally = { refused: 0, accepted: 0, statuses: {} as Record<number, number> };
  await fc.assert(
    fc.asyncProperty(inputs, async (input) => {
      const before = h.dump();
      const headers: Record<string, string> = {};
      let r;
      if (input.kind === 'body') {
        if (input.sent.contentType !== undefined) headers['content-type'] = input.sent.contentType;
        r = await h.call(method, path(), { raw: input.sent.raw, headers });
      } else {
        r = await h.call(method, path(), { query: input.query });
      }
      expect(r.status, r.text).toBeLessThan(500);
      tally.statuses[r.status] = (tally.statuses[r.status] ?? 0) + 1;
      if (r.status >= 400) {
        tally.refused += 1;
        expect(r.headers['content-type']).toBe('application/problem+json');
        expect(r.body).toMatchObject({
          status: r.status,
          type: expect.stringMatching(/^urn:ecs-backup:problem:/),
        });
        expect(h.dump()).toEqual(before);
      } else {
        tally.accepted += 1;
      }
    }),
    { numRuns: RUNS },
  );
  return tally;
}

const withBody = (structured: fc.Arbitrary<unknown>): fc.Arbitrary<Input> =>
  bodies(structured).map((sent) => ({ kind: 'body' as const, sent }));
const withQuery: fc.Arbitrary<Input> = deleteQuery.map((query) => ({ kind: 'query' as const, query }));

const validSubscription = fc.record({
  url: fc.constant('https://hooks.example.com/a'),
  events: fc.uniqueArray(fc.constantFrom('job.failed', 'job.completed', 'backup.expired'), { minLength: 1 }),
});
const subscriptionBody = fc.oneof(
  validSubscription,
  fc.record(
    {
      url: fc.oneof(
        fc.constantFrom(
          'https://hooks.example.com/a',
          'https://10.0.0.1/a',
          'http://127.0.0.1:1/a',
          'ftp://x/',
        ),
        text,
      ),
      events: fc.oneof(
        fc.array(fc.constantFrom('job.failed', 'job.completed', 'backup.expired', 'job.nope'), {
          maxLength: 4,
        }),
        anyJson,
      ),
      filter: fc.oneof(fc.record({ instanceId: instanceId }, { requiredKeys: [] }), anyJson),
      extra: anyJson,
    },
    { requiredKeys: [] },
  ),
  anyJson,
);

// Priorities from a small range, so that some valid bodies meet a priority already taken (a refusal).
const validRule = fc.record(
  {
    name: fc.constantFrom('prod-web', 'Fleet.db', 'ops:1'),
    priority: fc.integer({ min: 1, max: 40 }),
    match: fc.record(
      {
        tags: fc.constantFrom({ env: 'prod' }, { env: 'prod', app: 'web' }, { team: '' }),
        zoneIds: fc.constantFrom(['cn-hangzhou-h'], ['cn-hangzhou-h', 'cn-hangzhou-i']),
        osType: fc.constantFrom('linux', 'windows'),
      },
      { requiredKeys: ['tags'] },
    ),
    disks: fc.constant('all'),
    plan: validPlan,
    onUnmatch: fc.constantFrom('keep', 'remove'),
  },
  { requiredKeys: ['name', 'priority', 'match', 'plan'] },
);
const ruleJunk = fc.record(
  {
    name: text,
    priority: fc.oneof(oddNumber, anyJson),
    match: fc.oneof(
      fc.record(
        { tags: fc.oneof(fc.constant({}), fc.dictionary(text, text), anyJson) },
        { requiredKeys: [] },
      ),
      anyJson,
    ),
    disks: fc.oneof(disks, anyJson),
    plan: fc.oneof(plan, anyJson),
    onUnmatch: fc.oneof(fc.constantFrom('keep', 'remove', 'drop'), text),
    extra: anyJson,
  },
  { requiredKeys: [] },
);
const ruleBody = fc.oneof({ arbitrary: ruleJunk, weight: 3 }, { arbitrary: validRule, weight: 1 });
const rulePatch = fc.oneof(
  { arbitrary: ruleJunk, weight: 3 },
  {
    arbitrary: fc.record(
      {
        priority: fc.integer({ min: 1, max: 40 }),
        name: fc.constantFrom('renamed-rule', 'Other.rule'),
        onUnmatch: fc.constantFrom('keep', 'remove'),
        plan: validPlan,
      },
      { requiredKeys: [] },
    ),
    weight: 1,
  },
);

/** The input and the path parameters of every write operation, by operationId. */
const CASES: Record<string, { input: fc.Arbitrary<Input>; params: () => Record<string, string> }> = {
  protectInstance: { input: withBody(protectBody), params: () => ({}) },
  stopProtection: { input: withQuery, params: () => ({ instanceId: PROTECTED }) },
  backupNow: { input: withBody(backupNow), params: () => ({ instanceId: PROTECTED }) },
  createPlan: { input: withBody(createPlanBody), params: () => ({}) },
  updatePlan: { input: withBody(planChange), params: () => ({ planId }) },
  deletePlan: { input: withQuery, params: () => ({ planId }) },
  runPlan: { input: withBody(emptyish), params: () => ({ planId }) },
  suspendPlan: { input: withBody(emptyish), params: () => ({ planId }) },
  resumePlan: { input: withBody(emptyish), params: () => ({ planId }) },
  cancelJob: { input: withBody(emptyish), params: () => ({ jobId: JOB }) },
  updateBackup: { input: withBody(backupPatch), params: () => ({ backupId: POINT }) },
  deleteBackup: { input: withQuery, params: () => ({ backupId: POINT }) },
  restoreBackup: { input: withBody(restoreBody), params: () => ({ backupId: POINT }) },
  mountBackup: { input: withBody(mountBody), params: () => ({ backupId: POINT }) },
  unmount: { input: withBody(emptyish), params: () => ({ jobId: MOUNT_JOB }) },
  createSubscription: { input: withBody(subscriptionBody), params: () => ({}) },
  deleteSubscription: { input: withQuery, params: () => ({ subscriptionId }) },
  exportBackup: { input: withBody(exportBody), params: () => ({ backupId: POINT }) },
  cancelExport: { input: withBody(emptyish), params: () => ({ exportId: 'export-prop-running' }) },
  deleteExport: { input: withQuery, params: () => ({ exportId: 'export-prop-done' }) },
  createProtectionRule: { input: withBody(ruleBody), params: () => ({}) },
  updateProtectionRule: { input: withBody(rulePatch), params: () => ({ ruleId }) },
  deleteProtectionRule: { input: withQuery, params: () => ({ ruleId }) },
};

/** Every operation of the document that can change state. */
const WRITE_OPERATIONS = Object.entries(
  (openApiDocument(routes) as { paths: Record<string, Record<string, { operationId: string }>> }).paths,
).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => ['post', 'put', 'patch', 'delete'].includes(method))
    .map(([method, op]) => ({ method: method.toUpperCase(), path, operationId: op.operationId })),
);

describe(`${RUNS} random inputs per write route: never a 5xx, a refusal changes nothing`, () => {
  it('covers every write operation of the OpenAPI document', () => {
    expect(WRITE_OPERATIONS).toHaveLength(23);
    expect(WRITE_OPERATIONS.map((o) => o.operationId).sort()).toEqual(Object.keys(CASES).sort());
  });

  for (const { method, path, operationId } of WRITE_OPERATIONS) {
    it(`${method} ${path.replace('/api/v1', '')}`, async () => {
      const spec = CASES[operationId];
      expect(spec, `no random input for ${operationId}`).toBeDefined();
      const fill = () =>
        path.replace(/\{(\w+)\}/g, (_, name: string) => {
          const value = spec!.params()[name];
          if (value === undefined) throw new Error(`${operationId}: no value for {${name}}`);
          return encodeURIComponent(value);
        });
      const tally = await checkRoute(method, fill, spec!.input);
      expect(tally.refused + tally.accepted).toBe(RUNS);
      // Both sides of the property must be exercised: refusals, and requests that get past validation.
      expect(tally.refused).toBeGreaterThan(RUNS / 2);
      const pastValidation = Object.entries(tally.statuses)
        .filter(([status]) => !['400', '413', '415'].includes(status))
        .reduce((sum, [, n]) => sum + n, 0);
      expect(pastValidation).toBeGreaterThan(0);
      // ...and some inputs were valid and changed state: the property is not vacuous.
      expect(tally.accepted).toBeGreaterThan(0);
    }, 300_000);
  }
});
