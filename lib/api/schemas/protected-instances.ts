import { z } from 'zod';
import {
  diskSelectionSchema,
  instanceIdSchema,
  planPatchSchema,
  planSpecSchema,
  retentionSchema,
} from '../../domain/plan.js';
import { isoTime, named, pageOf } from './common.js';
import { jobView } from './jobs.js';
import { planView } from './plans.js';

export const protectBodySchema = named(
  z.strictObject({
    instanceId: instanceIdSchema,
    disks: diskSelectionSchema.default('all'),
    plan: planSpecSchema.optional(),
  }),
  'ProtectRequest',
  'Protect an instance. Without plan.schedule (or without plan) one backup starts now.',
);

export const backupNowBodySchema = named(
  z.strictObject({
    disks: diskSelectionSchema.optional(),
    retention: retentionSchema.optional(),
    longTerm: planPatchSchema.shape.longTerm,
    consistency: planPatchSchema.shape.consistency,
    lock: planSpecSchema.shape.lock,
  }),
  'BackupNowRequest',
  'One backup now; fields left out come from the instance plan, else the defaults.',
);

export const instancePathSchema = z.strictObject({ instanceId: instanceIdSchema });

export const protectedInstanceView = named(
  z.object({
    instanceId: z.string(),
    disks: z.union([z.literal('all'), z.array(z.string())]),
    planId: z.string().nullable(),
    plan: planView.nullable(),
    ruleId: z.string().nullable().describe('The protection rule that protects it; null: protected by hand'),
    createdAt: isoTime,
    updatedAt: isoTime,
    version: z.int(),
  }),
  'ProtectedInstance',
);

export const protectedInstancePage = pageOf(protectedInstanceView, 'ProtectedInstancePage');

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
