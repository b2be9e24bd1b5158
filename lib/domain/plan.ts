/**
 * Plan input: zod schemas (strict: unknown fields are refused so a typo never silently falls back to a
 * default), parsing into a ValidationError that names each field and reason, and the pure operations
 * that create and change a Plan.
 */
import { z } from 'zod';
import { isValidTimeZone } from './calendar.js';
import { MAX_COPIES, REGION_ID_PATTERN } from './copies.js';
import { lockRequestSchema } from './lock.js';
import { MAX_VERIFY_EVERY } from './verification.js';
import type { DiskSelection, Plan } from './model.js';
import { generatePlanName } from './plan-name.js';
import { firstOccurrenceAtOrAfter, startAtProblem } from './schedule.js';
import { parseWith } from './validation.js';

export { generatePlanName } from './plan-name.js';
export { formatPath, parseWith, toValidationIssues } from './validation.js';

/** Structurally the `IdSource` port; declared here so the domain imports nothing outside itself. */
export interface IdSource {
  next(prefix: string): string;
}

export const INSTANCE_ID_PATTERN = /^i-[a-z0-9]{4,40}$/;
export const DISK_ID_PATTERN = /^d-[a-z0-9]{4,40}$/;

/** Longest interval between two runs; a plan that runs less than yearly is an on-demand plan. */
export const MAX_INTERVAL = { hours: 8_784, days: 366, weeks: 52 } as const;
/** Longest retention per unit: a century. */
export const MAX_RETENTION = { days: 36_600, weeks: 5_218, months: 1_200, years: 100 } as const;

export const instanceIdSchema = z.string().regex(INSTANCE_ID_PATTERN, {
  error: 'must be an ECS instance id like i-bp1abc234def (i- then 4-40 of a-z0-9)',
});

export const diskIdSchema = z
  .string()
  .regex(DISK_ID_PATTERN, { error: 'must be an ECS disk id like d-bp1abc234def (d- then 4-40 of a-z0-9)' });

/** `all` = every disk attached when each backup starts; a list = exactly those disks. */
export const diskSelectionSchema = z.union([
  z.literal('all'),
  z
    .array(diskIdSchema)
    .min(1, { error: 'must list at least one disk id, or be "all"' })
    .max(64, { error: 'must list at most 64 disks' })
    .refine((ids) => new Set(ids).size === ids.length, { error: 'must not list a disk twice' }),
]);

/** ECS naming rules: 2-128 chars, starts with a letter, no http:// or https:// prefix. */
export const planNameSchema = z
  .string()
  .min(2, { error: 'must be 2-128 characters' })
  .max(128, { error: 'must be 2-128 characters' })
  .regex(/^\p{L}[\p{L}\p{N}._:-]*$/u, {
    error: 'must start with a letter and hold only letters, digits, ".", "_", ":" and "-"',
  })
  .refine((s) => !/^https?:\/\//i.test(s), { error: 'must not start with http:// or https://' });

const positiveInt = z.int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' });

export const intervalSchema = z
  .strictObject({
    value: positiveInt,
    unit: z.enum(['hours', 'days', 'weeks'], { error: 'must be hours, days or weeks' }),
  })
  .refine((i) => i.value <= MAX_INTERVAL[i.unit], {
    error: 'interval must be at most 366 days (8784 hours, 52 weeks)',
    path: ['value'],
  });

export const scheduleSchema = z.strictObject({
  startAt: z.string({ error: 'must be a string' }).superRefine((s, ctx) => {
    const problem = startAtProblem(s);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  }),
  every: intervalSchema,
});

export const retentionSchema = z
  .strictObject({
    value: positiveInt,
    unit: z.enum(['days', 'weeks', 'months', 'years'], { error: 'must be days, weeks, months or years' }),
  })
  .refine((r) => r.value <= MAX_RETENTION[r.unit], {
    error: 'retention must be at most 100 years (36600 days, 5218 weeks, 1200 months)',
    path: ['value'],
  });

export const longTermRuleSchema = z.strictObject({
  period: z.enum(['week', 'month', 'year'], { error: 'must be week, month or year' }),
  keep: retentionSchema,
});

const bool = z.boolean({ error: 'must be true or false' });
const failureMode = z.enum(['continue', 'fail'], { error: 'must be continue or fail' });
const timeoutSeconds = z
  .int({ error: 'must be a whole number of seconds' })
  .min(1, { error: 'must be 1-1800 seconds' })
  .max(1800, { error: 'must be 1-1800 seconds' });

export const consistencySchema = z.strictObject({
  applicationConsistent: bool.default(false),
  fsFreeze: bool.default(true),
  windowsWriters: bool.default(true),
  timeoutSeconds: timeoutSeconds.default(30),
  onPreScriptFailure: failureMode.default('continue'),
  onAgentUnavailable: failureMode.default('continue'),
});

const consistencyPatchSchema = z.strictObject({
  applicationConsistent: bool.optional(),
  fsFreeze: bool.optional(),
  windowsWriters: bool.optional(),
  timeoutSeconds: timeoutSeconds.optional(),
  onPreScriptFailure: failureMode.optional(),
  onAgentUnavailable: failureMode.optional(),
});

export const timeZoneSchema = z
  .string({ error: 'must be a string' })
  .refine(isValidTimeZone, { error: 'must be an IANA time zone such as UTC or Asia/Shanghai' });

const longTermListSchema = z
  .array(longTermRuleSchema)
  .max(3, { error: 'at most one rule per period (week, month, year)' })
  .refine((rules) => new Set(rules.map((r) => r.period)).size === rules.length, {
    error: 'at most one rule per period (week, month, year)',
  });

export const copyRuleSchema = z.strictObject({
  regionId: z.string({ error: 'must be a string' }).regex(REGION_ID_PATTERN, {
    error: 'must be a region id like cn-shanghai',
  }),
  retention: retentionSchema,
});

/** At most three regions, each once; the deployment checks the regions themselves (copies.ts). */
const copyListSchema = z
  .array(copyRuleSchema)
  .max(MAX_COPIES, { error: `at most ${MAX_COPIES} regions` })
  .superRefine((copies, ctx) => {
    copies.forEach((c, i) => {
      if (copies.findIndex((o) => o.regionId === c.regionId) < i) {
        ctx.addIssue({
          code: 'custom',
          message: `region ${c.regionId} is listed twice`,
          path: [i, 'regionId'],
        });
      }
    });
  });

/** Restore tests (lib/domain/verification.ts). */
export const verifyRuleSchema = z.strictObject({
  every: z
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(MAX_VERIFY_EVERY, { error: `must be at most ${MAX_VERIFY_EVERY}` }),
  helperInstanceId: instanceIdSchema.optional(),
  script: bool.optional(),
});

export const planSpecSchema = z.strictObject({
  name: planNameSchema.optional(),
  schedule: scheduleSchema.optional(),
  retention: retentionSchema,
  longTerm: longTermListSchema.default([]),
  consistency: consistencySchema.prefault({}),
  timeZone: timeZoneSchema.default('UTC'),
  keepLatest: bool.default(true),
  lock: lockRequestSchema.optional(),
  copies: copyListSchema.optional(),
  verify: verifyRuleSchema.optional(),
});

/**
 * Any subset of the plan body. `schedule: null` removes the schedule (on-demand backups only);
 * `consistency` may name only the options that change.
 */
export const planPatchSchema = z.strictObject({
  name: planNameSchema.optional(),
  schedule: scheduleSchema.nullable().optional(),
  retention: retentionSchema.optional(),
  longTerm: longTermListSchema.optional(),
  consistency: consistencyPatchSchema.optional(),
  timeZone: timeZoneSchema.optional(),
  keepLatest: bool.optional(),
  /** `null` stops locking the plan's next backups; backups already locked stay locked. */
  lock: lockRequestSchema.nullable().optional(),
  /** `[]` or `null` stops copying the plan's next backups; copies already made keep their expiry. */
  copies: copyListSchema.nullable().optional(),
  /** `null` stops verifying the plan's next backups; verifications already recorded stay. */
  verify: verifyRuleSchema.nullable().optional(),
});

export type PlanSpec = z.output<typeof planSpecSchema>;
/** What callers may hand to `newPlan`: defaults are filled in there. */
export type PlanSpecInput = z.input<typeof planSpecSchema>;
export type PlanPatch = z.output<typeof planPatchSchema>;

export function parsePlanSpec(input: unknown): PlanSpec {
  return parseWith(planSpecSchema, input);
}

export function parsePlanPatch(input: unknown): PlanPatch {
  return parseWith(planPatchSchema, input);
}

export type NewPlanSpec = PlanSpecInput & { instanceId: string; disks: DiskSelection };

/** A new ACTIVE plan; its first run is the first occurrence at or after `now`. */
export function newPlan(spec: NewPlanSpec, ids: IdSource, now: number, random: () => number): Plan {
  const { instanceId, disks, ...body } = spec;
  const parsed = parsePlanSpec(body);
  const plan: Plan = {
    id: ids.next('plan-'),
    name: parsed.name ?? generatePlanName(random),
    instanceId: parseWith(instanceIdSchema, instanceId, ['instanceId']),
    disks: parseWith(diskSelectionSchema, disks, ['disks']),
    retention: parsed.retention,
    longTerm: parsed.longTerm,
    consistency: parsed.consistency,
    timeZone: parsed.timeZone,
    keepLatest: parsed.keepLatest,
    state: 'ACTIVE',
    nextRunAt: parsed.schedule === undefined ? null : firstOccurrenceAtOrAfter(parsed.schedule, now),
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  if (parsed.schedule !== undefined) plan.schedule = parsed.schedule;
  if (parsed.lock !== undefined) plan.lock = parsed.lock;
  if (parsed.copies !== undefined && parsed.copies.length > 0) plan.copies = parsed.copies;
  if (parsed.verify !== undefined) plan.verify = parsed.verify;
  return plan;
}

/** The plan with the patch applied; a changed schedule restarts from its first occurrence at or after `now`. */
export function applyPlanPatch(plan: Plan, patch: PlanPatch, now: number): Plan {
  const next: Plan = { ...plan, updatedAt: now };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.retention !== undefined) next.retention = patch.retention;
  if (patch.longTerm !== undefined) next.longTerm = patch.longTerm;
  if (patch.timeZone !== undefined) next.timeZone = patch.timeZone;
  if (patch.keepLatest !== undefined) next.keepLatest = patch.keepLatest;
  if (patch.lock === null) delete next.lock;
  else if (patch.lock !== undefined) next.lock = patch.lock;
  if (patch.copies === null || patch.copies?.length === 0) delete next.copies;
  else if (patch.copies !== undefined) next.copies = patch.copies;
  if (patch.verify === null) delete next.verify;
  else if (patch.verify !== undefined) next.verify = patch.verify;
  if (patch.consistency !== undefined) {
    const defined = Object.entries(patch.consistency).filter(([, v]) => v !== undefined);
    next.consistency = { ...plan.consistency, ...Object.fromEntries(defined) };
  }
  if (patch.schedule === null) {
    delete next.schedule;
    next.nextRunAt = null;
  } else if (patch.schedule !== undefined) {
    next.schedule = patch.schedule;
    next.nextRunAt = plan.state === 'ACTIVE' ? firstOccurrenceAtOrAfter(patch.schedule, now) : null;
  }
  return next;
}

/** Suspended plans create no jobs; jobs already running finish. */
export function suspendPlan(plan: Plan, now: number): Plan {
  return { ...plan, state: 'SUSPENDED', nextRunAt: null, updatedAt: now };
}

/** Resume continues with the first occurrence at or after `now`: what was missed while suspended is not replayed. */
export function resumePlan(plan: Plan, now: number): Plan {
  return {
    ...plan,
    state: 'ACTIVE',
    nextRunAt: plan.schedule === undefined ? null : firstOccurrenceAtOrAfter(plan.schedule, now),
    updatedAt: now,
  };
}
