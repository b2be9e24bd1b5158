import { z } from 'zod';
import { JOB_STATUSES, JOB_TYPES } from '../../domain/job.js';
import { instanceIdSchema } from '../../domain/plan.js';
import {
  commaList,
  consistencyLevels as levels,
  instantSchema,
  isoTime,
  named,
  nullableIsoTime,
  opaqueId,
  pageOf,
  paging,
} from './common.js';

export const jobPathSchema = z.strictObject({ jobId: opaqueId });

export const jobQuerySchema = z.strictObject({
  ...paging,
  type: z.enum(JOB_TYPES, { error: `must be one of ${JOB_TYPES.join(', ')}` }).optional(),
  status: commaList(JOB_STATUSES),
  instanceId: instanceIdSchema.optional(),
  planId: opaqueId.optional(),
  /** createdAt >= from */
  from: instantSchema.optional(),
  /** createdAt < to */
  to: instantSchema.optional(),
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

export const jobPage = pageOf(jobView, 'JobPage');
