import { z } from 'zod';
import { diskSelectionSchema, instanceIdSchema, planPatchSchema, planSpecSchema } from '../../domain/plan.js';
import { POINT_STATUSES } from './backups.js';
import { isoTime, named, nullableIsoTime, opaqueId, pageOf, paging } from './common.js';

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

export const planPathSchema = z.strictObject({ planId: opaqueId });

export const planQuerySchema = z.strictObject({
  ...paging,
  instanceId: instanceIdSchema.optional(),
  state: z.enum(['ACTIVE', 'SUSPENDED'], { error: 'must be ACTIVE or SUSPENDED' }).optional(),
});

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
    lock: z.object({ mode: z.enum(['compliance', 'governance']) }).nullable(),
    copies: z.array(z.object({ regionId: z.string(), retention: retentionView })),
    verify: z
      .object({ every: z.int(), helperInstanceId: z.string().optional(), script: z.boolean().optional() })
      .nullable()
      .describe('Restore tests of every Nth complete backup; null = none'),
    state: z.enum(['ACTIVE', 'SUSPENDED']),
    nextRunAt: nullableIsoTime,
    createdAt: isoTime,
    updatedAt: isoTime,
    version: z.int(),
  }),
  'Plan',
);

export const planPage = pageOf(planView, 'PlanPage');

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
