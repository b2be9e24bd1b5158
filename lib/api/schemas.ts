/**
 * Every shape the API reads or writes, in zod. The handlers validate with these and the OpenAPI
 * document is generated from them, so the two cannot drift apart. Plan bodies reuse the domain's
 * schemas unchanged: a plan is written the same way on every route.
 */
import { z } from 'zod';
import { JOB_STATUSES, JOB_TYPES } from '../domain/job.js';
import {
  diskIdSchema,
  diskSelectionSchema,
  instanceIdSchema,
  longTermRuleSchema,
  planPatchSchema,
  planSpecSchema,
  retentionSchema,
  scheduleSchema,
} from '../domain/plan.js';
import { parseStartAt } from '../domain/schedule.js';

/** Schemas named here become `components/schemas` entries and are referenced by name. */
export const apiRegistry = z.registry<{ id: string; description?: string }>();

function named<S extends z.ZodType>(schema: S, id: string, description?: string): S {
  apiRegistry.add(schema, description === undefined ? { id } : { id, description });
  return schema;
}

// ---------------------------------------------------------------- shared pieces

named(instanceIdSchema, 'InstanceId', 'ECS instance id');
named(diskIdSchema, 'DiskId', 'ECS disk id');
named(
  diskSelectionSchema,
  'DiskSelection',
  '"all" (every disk attached when each backup starts) or a list of disk ids',
);
named(scheduleSchema, 'Schedule', 'First run (ISO 8601 with seconds and offset) and fixed interval');
named(retentionSchema, 'Retention', 'How long a backup is kept; months and years are calendar units');
named(longTermRuleSchema, 'LongTermRule', 'Keep the first backup of each period longer');
named(planSpecSchema, 'PlanSpec', 'A backup plan as written by an operator');

/** An instant given by a client: ISO 8601 with seconds and an explicit offset, like a schedule start. */
export const instantSchema = z
  .string({ error: 'must be a string' })
  .superRefine((s, ctx) => {
    try {
      parseStartAt(s);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'must be ISO 8601 with seconds and an offset, e.g. 2027-01-01T00:00:00Z',
      });
    }
  })
  .transform((s) => parseStartAt(s));

const opaqueId = z
  .string()
  .min(1)
  .max(128, { error: 'must be at most 128 characters' })
  .regex(/^[A-Za-z0-9_.:-]+$/, { error: 'must hold only letters, digits, ".", "_", ":" and "-"' });

// ---------------------------------------------------------------- request bodies

export const protectBodySchema = named(
  z.strictObject({
    instanceId: instanceIdSchema,
    disks: diskSelectionSchema.default('all'),
    plan: planSpecSchema.optional(),
  }),
  'ProtectRequest',
  'Protect an instance. Without plan.schedule (or without plan) one backup starts now.',
);

export const createPlanBodySchema = named(
  z.strictObject({
    instanceId: instanceIdSchema,
    disks: diskSelectionSchema.default('all'),
    plan: planSpecSchema,
  }),
  'CreatePlanRequest',
  'A plan for an instance; protects the instance when it is not protected yet.',
);

export const planChangeSchema = named(
  planPatchSchema.extend({ disks: diskSelectionSchema.optional() }),
  'PlanChange',
  'Any subset of the plan; schedule: null removes the schedule.',
);

export const backupNowBodySchema = named(
  z.strictObject({
    disks: diskSelectionSchema.optional(),
    retention: retentionSchema.optional(),
    longTerm: planPatchSchema.shape.longTerm,
    consistency: planPatchSchema.shape.consistency,
  }),
  'BackupNowRequest',
  'One backup now; fields left out come from the instance plan, else the defaults.',
);

export const backupPatchSchema = named(
  z.strictObject({ expireAt: instantSchema }),
  'BackupChange',
  'Set the expiry of one backup.',
);

// ---------------------------------------------------------------- path and query

export const instancePathSchema = z.strictObject({ instanceId: instanceIdSchema });
export const planPathSchema = z.strictObject({ planId: opaqueId });
export const jobPathSchema = z.strictObject({ jobId: opaqueId });
export const backupPathSchema = z.strictObject({ backupId: opaqueId });

/** Query values are strings; these read them as the numbers and lists they stand for. */
const limit = (max: number, fallback: number) =>
  z.coerce
    .number({ error: `must be a whole number 1-${max}` })
    .int({ error: `must be a whole number 1-${max}` })
    .min(1, { error: `must be a whole number 1-${max}` })
    .max(max, { error: `must be a whole number 1-${max}` })
    .default(fallback);

const paging = {
  limit: limit(1000, 50),
  cursor: z.string().min(1).max(1024).optional(),
  order: z.enum(['desc', 'asc'], { error: 'must be desc or asc' }).default('desc'),
};

function commaList<const T extends readonly [string, ...string[]]>(values: T) {
  return z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()))
    .pipe(z.array(z.enum(values, { error: `each value must be one of ${values.join(', ')}` })).min(1));
}

export const listQuerySchema = z.strictObject({ ...paging });

export const planQuerySchema = z.strictObject({
  ...paging,
  instanceId: instanceIdSchema.optional(),
  state: z.enum(['ACTIVE', 'SUSPENDED'], { error: 'must be ACTIVE or SUSPENDED' }).optional(),
});

export const jobQuerySchema = z.strictObject({
  ...paging,
  type: z.enum(JOB_TYPES, { error: `must be one of ${JOB_TYPES.join(', ')}` }).optional(),
  status: commaList(JOB_STATUSES).optional(),
  instanceId: instanceIdSchema.optional(),
  planId: opaqueId.optional(),
  /** createdAt >= from */
  from: instantSchema.optional(),
  /** createdAt < to */
  to: instantSchema.optional(),
});

export const POINT_STATUSES = ['CREATING', 'AVAILABLE', 'DELETING', 'DELETED', 'DELETE_FAILED'] as const;

export const backupQuerySchema = z.strictObject({
  ...paging,
  instanceId: instanceIdSchema.optional(),
  planId: opaqueId.optional(),
  status: commaList(POINT_STATUSES).optional(),
  /** completedAt >= from */
  from: instantSchema.optional(),
  /** completedAt < to */
  to: instantSchema.optional(),
});

export const instanceQuerySchema = z.strictObject({
  limit: limit(100, 20),
  cursor: z.string().min(1).max(1024).optional(),
  protected: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
});

// ---------------------------------------------------------------- responses

const isoTime = z.string().describe('ISO 8601 UTC time');
const nullableIsoTime = isoTime.nullable();

const consistencyOptionsView = z.object({
  applicationConsistent: z.boolean(),
  fsFreeze: z.boolean(),
  windowsWriters: z.boolean(),
  timeoutSeconds: z.int(),
  onPreScriptFailure: z.enum(['continue', 'fail']),
  onAgentUnavailable: z.enum(['continue', 'fail']),
});

const intervalView = z.object({ value: z.int(), unit: z.enum(['hours', 'days', 'weeks']) });
const retentionView = z.object({ value: z.int(), unit: z.enum(['days', 'weeks', 'months', 'years']) });

export const planView = named(
  z.object({
    id: z.string(),
    name: z.string(),
    instanceId: z.string(),
    disks: z.union([z.literal('all'), z.array(z.string())]),
    schedule: z.object({ startAt: z.string(), every: intervalView }).nullable(),
    retention: retentionView,
    longTerm: z.array(z.object({ period: z.enum(['week', 'month', 'year']), keep: retentionView })),
    consistency: consistencyOptionsView,
    timeZone: z.string(),
    keepLatest: z.boolean(),
    state: z.enum(['ACTIVE', 'SUSPENDED']),
    nextRunAt: nullableIsoTime,
    createdAt: isoTime,
    updatedAt: isoTime,
    version: z.int(),
  }),
  'Plan',
);

export const protectedInstanceView = named(
  z.object({
    instanceId: z.string(),
    disks: z.union([z.literal('all'), z.array(z.string())]),
    planId: z.string().nullable(),
    plan: planView.nullable(),
    createdAt: isoTime,
    updatedAt: isoTime,
    version: z.int(),
  }),
  'ProtectedInstance',
);

const levels = z.enum(['application', 'filesystem', 'crash']);

const pointConsistencyView = z.object({
  requested: levels,
  achieved: levels,
  reason: z.string().nullable(),
  freezeWindowMs: z.number().nullable(),
});

export const jobView = named(
  z.object({
    id: z.string(),
    type: z.enum(JOB_TYPES),
    status: z.enum(JOB_STATUSES),
    instanceId: z.string(),
    planId: z.string().nullable(),
    scheduledAt: nullableIsoTime,
    step: z.string(),
    progress: z.int().min(0).max(100),
    cancelRequested: z.boolean(),
    reason: z.string().nullable(),
    consistency: z
      .object({
        requested: levels,
        expected: levels.nullable().describe('What the job aims for given the OS, options and disks'),
        achieved: levels.nullable().describe('Known once the snapshot is taken'),
        reason: z.string().nullable().describe('Why achieved (or expected) is lower than requested'),
        freezeWindowMs: z.number().nullable(),
      })
      .nullable(),
    backupId: z.string().nullable(),
    params: z.record(z.string(), z.unknown()),
    state: z.record(z.string(), z.unknown()),
    errors: z.array(z.object({ code: z.string(), message: z.string(), at: isoTime })),
    attempts: z.int(),
    createdAt: isoTime,
    updatedAt: isoTime,
    startedAt: nullableIsoTime,
    finishedAt: nullableIsoTime,
    version: z.int(),
  }),
  'Job',
);

export const backupView = named(
  z.object({
    id: z.string(),
    instanceId: z.string(),
    planId: z.string().nullable(),
    jobId: z.string(),
    kind: z.enum(['group', 'per-disk']),
    snapshotGroupId: z.string().nullable(),
    snapshots: z.array(
      z.object({
        diskId: z.string(),
        snapshotId: z.string(),
        diskType: z.enum(['system', 'data']),
        category: z.string(),
        sizeGiB: z.number(),
        device: z.string().nullable(),
      }),
    ),
    consistency: pointConsistencyView,
    status: z.enum(POINT_STATUSES),
    createdAt: isoTime,
    completedAt: isoTime,
    expireAt: isoTime,
    longTermUntil: nullableIsoTime,
    longTermRule: z.enum(['week', 'month', 'year']).nullable(),
    effectiveExpireAt: isoTime,
    ours: z.boolean(),
    inUseBy: z.array(z.string()),
    lastError: z.string().nullable(),
    version: z.int(),
  }),
  'Backup',
);

export const instanceView = named(
  z.object({
    instanceId: z.string(),
    name: z.string(),
    status: z.string(),
    osType: z.enum(['linux', 'windows']),
    osName: z.string(),
    zoneId: z.string(),
    regionId: z.string(),
    disks: z.array(
      z.object({
        diskId: z.string(),
        name: z.string(),
        type: z.enum(['system', 'data']),
        category: z.string(),
        sizeGiB: z.number(),
        device: z.string().nullable(),
        status: z.string(),
      }),
    ),
    cloudAssistant: z.enum(['running', 'not-running', 'unknown']),
    protection: z.object({
      protected: z.boolean(),
      planId: z.string().nullable(),
      planName: z.string().nullable(),
      planState: z.enum(['ACTIVE', 'SUSPENDED']).nullable(),
      disks: z.union([z.literal('all'), z.array(z.string())]).nullable(),
    }),
  }),
  'Instance',
);

function pageOf<S extends z.ZodType>(item: S, id: string) {
  return named(
    z.object({
      items: z.array(item),
      nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
    }),
    id,
  );
}

export const planPage = pageOf(planView, 'PlanPage');
export const protectedInstancePage = pageOf(protectedInstanceView, 'ProtectedInstancePage');
export const jobPage = pageOf(jobView, 'JobPage');
export const backupPage = pageOf(backupView, 'BackupPage');
export const instancePage = pageOf(instanceView, 'InstancePage');

export const protectResultView = named(
  z.object({
    protectedInstance: protectedInstanceView,
    plan: planView.nullable(),
    job: jobView.nullable().describe('The backup started now when the plan has no schedule'),
  }),
  'ProtectResult',
);

export const stopProtectionView = named(
  z.object({ instanceId: z.string(), deletedPlanIds: z.array(z.string()) }),
  'StopProtectionResult',
);

export const retentionPreviewView = named(
  z.object({
    planId: z.string(),
    evaluatedAt: isoTime,
    keep: z.int(),
    delete: z.int(),
    points: z.array(
      z.object({
        backupId: z.string(),
        completedAt: isoTime,
        status: z.enum(POINT_STATUSES),
        decision: z.enum(['keep', 'delete']),
        reason: z.string(),
        expireAt: isoTime.describe('When the plan policy lets the backup go'),
      }),
    ),
  }),
  'RetentionPreview',
);

export const healthView = named(z.object({ status: z.literal('ok') }), 'Health');

export const problemView = named(
  z.object({
    type: z.string().describe('URI naming the kind of problem'),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
  'Problem',
  'RFC 9457 problem document',
);
