import { z } from 'zod';
import { LOCK_MODES, lockRequestSchema } from '../../domain/lock.js';
import { instanceIdSchema } from '../../domain/plan.js';
import { CONFIRM_LAST_GOOD } from '../../usecases/management/backups.js';
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

export const POINT_STATUSES = [
  'CREATING',
  'AVAILABLE',
  'DELETING',
  'DELETED',
  'DELETE_FAILED',
  'COPIES_ONLY',
] as const;

export const backupPatchSchema = named(
  z
    .strictObject({
      expireAt: instantSchema.optional(),
      lock: lockRequestSchema.optional().describe('Lock the backup, or make its governance lock compliance'),
    })
    .refine((b) => b.expireAt !== undefined || b.lock !== undefined, {
      error: 'send expireAt, lock or both',
    }),
  'BackupChange',
  'Set the expiry of one backup, lock it, or both. A lock is never removed.',
);

export const backupPathSchema = z.strictObject({ backupId: opaqueId });

export const backupDeleteQuerySchema = z.strictObject({
  confirm: z
    .literal(CONFIRM_LAST_GOOD, { error: `must be ${CONFIRM_LAST_GOOD}` })
    .optional()
    .describe(`${CONFIRM_LAST_GOOD}: delete it even when it is the instance's only good backup`),
});

export const backupQuerySchema = z.strictObject({
  ...paging,
  instanceId: instanceIdSchema.optional(),
  planId: opaqueId.optional(),
  status: commaList(POINT_STATUSES),
  /** completedAt >= from */
  from: instantSchema.optional(),
  /** completedAt < to */
  to: instantSchema.optional(),
  verification: z
    .enum(['passed', 'failed', 'none'], { error: 'must be passed, failed or none' })
    .optional()
    .describe(
      'The verdict of the latest restore test; none = never tested. A page may then hold fewer items',
    ),
});

const pointConsistencyView = z.object({
  requested: levels,
  achieved: levels,
  reason: z.string().nullable(),
  freezeWindowMs: z.number().nullable(),
});

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
    lock: z
      .object({
        mode: z.enum(LOCK_MODES),
        lockedAt: isoTime,
        overrides: z.array(
          z.object({
            action: z.enum(['delete', 'shorten']),
            at: isoTime,
            from: nullableIsoTime,
            to: nullableIsoTime,
          }),
        ),
      })
      .nullable(),
    source: z
      .object({
        instanceName: z.string(),
        zoneId: z.string(),
        osType: z.enum(['linux', 'windows']),
        instanceType: z.string().nullable(),
        vSwitchId: z.string().nullable(),
        securityGroupIds: z.array(z.string()),
        tags: z.array(z.object({ key: z.string(), value: z.string() })),
      })
      .nullable()
      .describe('The instance as it was backed up: what a clone-instance restore launches with by default'),
    copies: z
      .array(
        z.object({
          regionId: z.string(),
          jobId: z.string(),
          snapshotIds: z.array(z.string()).describe('In the order of snapshots: the copy of each'),
          status: z.enum(['copying', 'available', 'failed', 'deleted', 'delete_failed']),
          expireAt: nullableIsoTime.describe('Null until the copy completes'),
          reason: z.string().nullable(),
        }),
      )
      .describe('Copies in other regions, each with its own expiry'),
    verification: z
      .object({
        status: z.enum(['passed', 'failed']),
        at: isoTime,
        reason: z.string().nullable(),
        durationSeconds: z.number(),
        jobId: z.string(),
      })
      .nullable()
      .describe('The latest restore test of the backup; null = never tested'),
    version: z.int(),
  }),
  'Backup',
);

export const backupPage = pageOf(backupView, 'BackupPage');
