import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/domain/errors.js';
import type { Plan } from '../../../lib/domain/model.js';
import {
  applyPlanPatch,
  consistencySchema,
  diskSelectionSchema,
  formatPath,
  generatePlanName,
  newPlan,
  parsePlanPatch,
  parsePlanSpec,
  planNameSchema,
  resumePlan,
  suspendPlan,
} from '../../../lib/domain/plan.js';
import { SequentialIds } from '../../support/clock.js';

const T = Date.parse('2026-03-01T00:00:00Z');
const H = 3_600_000;
const D = 24 * H;

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('parsePlanSpec', () => {
  it('fills every default', () => {
    expect(parsePlanSpec({ retention: { value: 7, unit: 'days' } })).toEqual({
      retention: { value: 7, unit: 'days' },
      longTerm: [],
      consistency: {
        applicationConsistent: false,
        fsFreeze: true,
        windowsWriters: true,
        timeoutSeconds: 30,
        onPreScriptFailure: 'continue',
        onAgentUnavailable: 'continue',
      },
      timeZone: 'UTC',
      keepLatest: true,
    });
  });

  it('keeps what was given', () => {
    const spec = {
      name: 'nightly-db',
      schedule: { startAt: '2026-03-01T02:00:00+08:00', every: { value: 1, unit: 'days' } },
      retention: { value: 3, unit: 'months' },
      longTerm: [
        { period: 'week', keep: { value: 8, unit: 'weeks' } },
        { period: 'year', keep: { value: 5, unit: 'years' } },
      ],
      consistency: { applicationConsistent: true, timeoutSeconds: 1800, onPreScriptFailure: 'fail' },
      timeZone: 'Asia/Shanghai',
      keepLatest: false,
    };
    const parsed = parsePlanSpec(spec);
    expect(parsed).toMatchObject({
      ...spec,
      consistency: { ...spec.consistency, fsFreeze: true, onAgentUnavailable: 'continue' },
    });
  });

  it.each([
    { name: 'missing body', input: undefined, path: '', message: 'required' },
    { name: 'missing retention', input: {}, path: 'retention', message: 'required' },
    {
      name: 'zero retention',
      input: { retention: { value: 0, unit: 'days' } },
      path: 'retention.value',
      message: 'must be at least 1',
    },
    {
      name: 'fractional retention',
      input: { retention: { value: 1.5, unit: 'days' } },
      path: 'retention.value',
      message: 'must be a whole number',
    },
    {
      name: 'retention over a century',
      input: { retention: { value: 101, unit: 'years' } },
      path: 'retention.value',
      message: 'retention must be at most 100 years (36600 days, 5218 weeks, 1200 months)',
    },
    {
      name: 'unknown retention unit',
      input: { retention: { value: 1, unit: 'hours' } },
      path: 'retention.unit',
      message: 'must be days, weeks, months or years',
    },
    {
      name: 'unknown top-level field (typo)',
      input: { retention: { value: 1, unit: 'days' }, keepLastest: true },
      path: 'keepLastest',
      message: 'unknown field',
    },
    {
      name: 'unknown nested field',
      input: { retention: { value: 1, unit: 'days', extra: 1 } },
      path: 'retention.extra',
      message: 'unknown field',
    },
    {
      name: 'startAt without offset',
      input: {
        retention: { value: 1, unit: 'days' },
        schedule: { startAt: '2026-03-01T02:00:00', every: { value: 1, unit: 'days' } },
      },
      path: 'schedule.startAt',
      message:
        '"2026-03-01T02:00:00" must be ISO 8601 with seconds and an offset, e.g. 2026-12-01T02:00:00+08:00',
    },
    {
      name: 'startAt not a string',
      input: {
        retention: { value: 1, unit: 'days' },
        schedule: { startAt: 5, every: { value: 1, unit: 'days' } },
      },
      path: 'schedule.startAt',
      message: 'must be a string',
    },
    {
      name: 'interval unit minutes',
      input: {
        retention: { value: 1, unit: 'days' },
        schedule: { startAt: '2026-03-01T02:00:00Z', every: { value: 30, unit: 'minutes' } },
      },
      path: 'schedule.every.unit',
      message: 'must be hours, days or weeks',
    },
    {
      name: 'interval over a year',
      input: {
        retention: { value: 1, unit: 'days' },
        schedule: { startAt: '2026-03-01T02:00:00Z', every: { value: 53, unit: 'weeks' } },
      },
      path: 'schedule.every.value',
      message: 'interval must be at most 366 days (8784 hours, 52 weeks)',
    },
    {
      name: 'long-term rule without keep',
      input: { retention: { value: 1, unit: 'days' }, longTerm: [{ period: 'week' }] },
      path: 'longTerm[0].keep',
      message: 'required',
    },
    {
      name: 'long-term daily period',
      input: {
        retention: { value: 1, unit: 'days' },
        longTerm: [{ period: 'day', keep: { value: 1, unit: 'days' } }],
      },
      path: 'longTerm[0].period',
      message: 'must be week, month or year',
    },
    {
      name: 'two rules for one period',
      input: {
        retention: { value: 1, unit: 'days' },
        longTerm: [
          { period: 'week', keep: { value: 1, unit: 'weeks' } },
          { period: 'week', keep: { value: 2, unit: 'weeks' } },
        ],
      },
      path: 'longTerm',
      message: 'at most one rule per period (week, month, year)',
    },
    {
      name: 'freeze timeout 0',
      input: { retention: { value: 1, unit: 'days' }, consistency: { timeoutSeconds: 0 } },
      path: 'consistency.timeoutSeconds',
      message: 'must be 1-1800 seconds',
    },
    {
      name: 'freeze timeout 1801',
      input: { retention: { value: 1, unit: 'days' }, consistency: { timeoutSeconds: 1801 } },
      path: 'consistency.timeoutSeconds',
      message: 'must be 1-1800 seconds',
    },
    {
      name: 'pre-script failure mode',
      input: { retention: { value: 1, unit: 'days' }, consistency: { onPreScriptFailure: 'retry' } },
      path: 'consistency.onPreScriptFailure',
      message: 'must be continue or fail',
    },
    {
      name: 'boolean given as string',
      input: { retention: { value: 1, unit: 'days' }, consistency: { fsFreeze: 'yes' } },
      path: 'consistency.fsFreeze',
      message: 'must be true or false',
    },
    {
      name: 'unknown time zone',
      input: { retention: { value: 1, unit: 'days' }, timeZone: 'Mars/Olympus' },
      path: 'timeZone',
      message: 'must be an IANA time zone such as UTC or Asia/Shanghai',
    },
    {
      name: 'offset instead of a zone',
      input: { retention: { value: 1, unit: 'days' }, timeZone: '+08:00' },
      path: 'timeZone',
      message: 'must be an IANA time zone such as UTC or Asia/Shanghai',
    },
    {
      name: 'name too short',
      input: { retention: { value: 1, unit: 'days' }, name: 'a' },
      path: 'name',
      message: 'must be 2-128 characters',
    },
    {
      name: 'name starting with a digit',
      input: { retention: { value: 1, unit: 'days' }, name: '1plan' },
      path: 'name',
      message: 'must start with a letter and hold only letters, digits, ".", "_", ":" and "-"',
    },
    {
      name: 'name starting with http://',
      input: { retention: { value: 1, unit: 'days' }, name: 'http://x' },
      path: 'name',
      message: 'must start with a letter and hold only letters, digits, ".", "_", ":" and "-"',
    },
  ])('$name -> $path: $message', ({ input, path, message }) => {
    const issues = issuesOf(() => parsePlanSpec(input));
    expect(issues).toContainEqual({ path, message });
  });

  it('reports every problem at once, and the error message names them', () => {
    let caught: unknown;
    try {
      parsePlanSpec({ retention: { value: -1, unit: 'days' }, timeZone: 'Nowhere/Land', foo: 1 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const e = caught as ValidationError;
    expect(e.issues.map((i) => i.path)).toEqual(['retention.value', 'timeZone', 'foo']);
    expect(e.name).toBe('ValidationError');
    expect(e.message).toBe(
      'invalid input: retention.value: must be at least 1; timeZone: must be an IANA time zone such as UTC or Asia/Shanghai; foo: unknown field',
    );
  });

  it('name rules: no http(s):// prefix, letters of any script, at most 128 characters', () => {
    expect(planNameSchema.safeParse('https://example').success).toBe(false);
    expect(planNameSchema.safeParse('Ünïcode-plan.v2:db_1').success).toBe(true);
    expect(planNameSchema.safeParse('x'.repeat(129)).success).toBe(false);
  });

  it('consistency schema fills defaults alone', () => {
    expect(consistencySchema.parse({})).toMatchObject({ timeoutSeconds: 30, onAgentUnavailable: 'continue' });
  });
});

describe('disk selection', () => {
  it.each([
    { name: 'all', input: 'all', ok: true },
    { name: 'a list of disk ids', input: ['d-abcd1234', 'd-bp1xyz000'], ok: true },
    { name: 'an empty list', input: [], ok: false },
    { name: 'a disk listed twice', input: ['d-abcd1234', 'd-abcd1234'], ok: false },
    { name: 'an instance id as a disk', input: ['i-abcd1234'], ok: false },
    { name: 'upper case', input: ['d-ABCD1234'], ok: false },
    { name: 'some', input: 'some', ok: false },
  ])('$name', ({ input, ok }) => {
    expect(diskSelectionSchema.safeParse(input).success).toBe(ok);
  });
});

describe('generatePlanName', () => {
  it('is readable and follows the sequence of the random source', () => {
    expect(generatePlanName(() => 0)).toBe('plan-amber-anchor-1000');
    expect(generatePlanName(() => 0.999999)).toBe('plan-zesty-marten-9999');
  });

  it('clamps a random source that returns 1', () => {
    expect(generatePlanName(() => 1)).toBe('plan-zesty-marten-9999');
  });

  it('is always a valid ECS name (2-128, starts with a letter, no http prefix)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (values) => {
          let i = 0;
          const name = generatePlanName(() => values[i++ % 3] as number);
          expect(name).toMatch(/^plan-[a-z]+-[a-z]+-[1-9]\d{3}$/);
          expect(planNameSchema.safeParse(name).success).toBe(true);
        },
      ),
    );
  });
});

describe('newPlan', () => {
  const schedule = { startAt: '2026-01-01T02:00:00+08:00', every: { value: 1, unit: 'days' as const } };

  it('an ACTIVE plan whose first run is the first occurrence at or after now', () => {
    const plan = newPlan(
      { instanceId: 'i-abcd1234', disks: 'all', retention: { value: 7, unit: 'days' }, schedule },
      new SequentialIds(),
      T,
      () => 0,
    );
    expect(plan).toMatchObject({
      id: 'plan-000001',
      name: 'plan-amber-anchor-1000',
      state: 'ACTIVE',
      nextRunAt: Date.parse('2026-03-01T18:00:00Z'),
      createdAt: T,
      updatedAt: T,
      version: 1,
      timeZone: 'UTC',
      keepLatest: true,
      longTerm: [],
      schedule,
    });
    expect(plan.consistency.timeoutSeconds).toBe(30);
  });

  it('a start in the future is the first run; no schedule means no run', () => {
    const future = { ...schedule, startAt: '2026-06-01T00:00:00Z' };
    const a = newPlan(
      {
        instanceId: 'i-abcd1234',
        disks: ['d-abcd1234'],
        retention: { value: 1, unit: 'days' },
        schedule: future,
        name: 'db',
      },
      new SequentialIds(),
      T,
      Math.random,
    );
    expect(a.nextRunAt).toBe(Date.parse('2026-06-01T00:00:00Z'));
    expect(a.name).toBe('db');
    const b = newPlan(
      { instanceId: 'i-abcd1234', disks: 'all', retention: { value: 1, unit: 'days' } },
      new SequentialIds(),
      T,
      Math.random,
    );
    expect(b.nextRunAt).toBeNull();
    expect('schedule' in b).toBe(false);
  });

  it('names a bad instance id or disk list by field', () => {
    expect(
      issuesOf(() =>
        newPlan(
          { instanceId: 'vm-1', disks: 'all', retention: { value: 1, unit: 'days' } },
          new SequentialIds(),
          T,
          Math.random,
        ),
      ),
    ).toEqual([
      {
        path: 'instanceId',
        message: 'must be an ECS instance id like i-bp1abc234def (i- then 4-40 of a-z0-9)',
      },
    ]);
    expect(
      issuesOf(() =>
        newPlan(
          { instanceId: 'i-abcd1234', disks: ['x'], retention: { value: 1, unit: 'days' } },
          new SequentialIds(),
          T,
          Math.random,
        ),
      )[0]?.path,
    ).toBe('disks[0]');
  });
});

describe('applyPlanPatch', () => {
  const base: Plan = newPlan(
    {
      instanceId: 'i-abcd1234',
      disks: 'all',
      retention: { value: 7, unit: 'days' },
      schedule: { startAt: '2026-01-01T00:00:00Z', every: { value: 1, unit: 'days' } },
      consistency: { applicationConsistent: true, timeoutSeconds: 60 },
    },
    new SequentialIds(),
    T,
    () => 0.5,
  );

  it('changes only what the patch names; consistency merges option by option', () => {
    const patch = parsePlanPatch({
      name: 'renamed',
      consistency: { fsFreeze: false },
      retention: { value: 1, unit: 'years' },
      longTerm: [],
      timeZone: 'Europe/Berlin',
      keepLatest: false,
    });
    const next = applyPlanPatch(base, patch, T + H);
    expect(next).toMatchObject({
      name: 'renamed',
      retention: { value: 1, unit: 'years' },
      timeZone: 'Europe/Berlin',
      keepLatest: false,
      updatedAt: T + H,
      nextRunAt: base.nextRunAt,
      consistency: { applicationConsistent: true, fsFreeze: false, timeoutSeconds: 60 },
    });
    expect(base.name).not.toBe('renamed');
  });

  it('a new schedule restarts from its first occurrence at or after now', () => {
    const next = applyPlanPatch(
      base,
      parsePlanPatch({ schedule: { startAt: '2026-01-01T06:00:00Z', every: { value: 12, unit: 'hours' } } }),
      T + 7 * H,
    );
    expect(next.nextRunAt).toBe(T + 18 * H);
  });

  it('a suspended plan keeps no next run when its schedule changes', () => {
    const next = applyPlanPatch(
      suspendPlan(base, T),
      parsePlanPatch({ schedule: { startAt: '2026-01-01T06:00:00Z', every: { value: 1, unit: 'hours' } } }),
      T,
    );
    expect(next.nextRunAt).toBeNull();
  });

  it('schedule: null turns the plan into on-demand only', () => {
    const next = applyPlanPatch(base, parsePlanPatch({ schedule: null }), T);
    expect(next.nextRunAt).toBeNull();
    expect('schedule' in next).toBe(false);
  });

  it('an empty patch changes nothing but updatedAt', () => {
    expect(applyPlanPatch(base, parsePlanPatch({}), T + 1)).toEqual({ ...base, updatedAt: T + 1 });
  });

  it('patch validation names the field', () => {
    expect(issuesOf(() => parsePlanPatch({ consistency: { timeoutSeconds: 0 }, state: 'ACTIVE' }))).toEqual([
      { path: 'consistency.timeoutSeconds', message: 'must be 1-1800 seconds' },
      { path: 'state', message: 'unknown field' },
    ]);
  });
});

describe('suspend and resume', () => {
  const plan = newPlan(
    {
      instanceId: 'i-abcd1234',
      disks: 'all',
      retention: { value: 7, unit: 'days' },
      schedule: { startAt: '2026-01-01T00:00:00Z', every: { value: 1, unit: 'days' } },
    },
    new SequentialIds(),
    T,
    () => 0.5,
  );

  it('suspended plans have no next run', () => {
    expect(suspendPlan(plan, T + 1)).toMatchObject({ state: 'SUSPENDED', nextRunAt: null, updatedAt: T + 1 });
  });

  it('resume after a long suspension schedules the next occurrence after now, no catch-up', () => {
    const resumed = resumePlan(suspendPlan(plan, T), T + 40 * D + 5 * H);
    expect(resumed).toMatchObject({ state: 'ACTIVE', nextRunAt: T + 41 * D });
  });

  it('resuming an on-demand plan has no next run', () => {
    const onDemand = applyPlanPatch(plan, parsePlanPatch({ schedule: null }), T);
    expect(resumePlan(onDemand, T).nextRunAt).toBeNull();
  });
});

describe('formatPath', () => {
  it.each([
    [[], ''],
    [['a'], 'a'],
    [['a', 0, 'b'], 'a[0].b'],
    [[0, 'x'], '[0].x'],
  ] as [PropertyKey[], string][])('%j -> %s', (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });
});
