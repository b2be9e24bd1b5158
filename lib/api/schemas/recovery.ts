import { z } from 'zod';
import { REGION_ID_PATTERN } from '../../domain/copies.js';
import { diskIdSchema, instanceIdSchema } from '../../domain/plan.js';
import { MAX_MOUNT_TTL_HOURS, RESTORE_MODES } from '../../usecases/restore/state.js';
import { CLONE_FIELDS, CLONE_INSTANCE, cloneFields } from './clone.js';
import { isoTime, named, pageOf } from './common.js';
import { jobPathSchema } from './jobs.js';

const ROLLBACK = new Set(['rollback-disk', 'rollback-instance']);
const MODES = [...RESTORE_MODES, CLONE_INSTANCE] as const;

export const restoreBodySchema = named(
  z
    .strictObject({
      mode: z.enum(MODES, { error: `must be one of ${MODES.join(', ')}` }),
      ...cloneFields,
      diskId: diskIdSchema.optional().describe('The disk of the backup to roll back or clone'),
      targetInstanceId: instanceIdSchema
        .optional()
        .describe('clone-disk: the instance that receives the new disk'),
      stopInstance: z
        .boolean({ error: 'must be true or false' })
        .optional()
        .describe('Rollback: stop a running instance for the rollback and start it again after'),
      regionId: z
        .string({ error: 'must be a string' })
        .regex(REGION_ID_PATTERN, { error: 'must be a region id like cn-shanghai' })
        .optional()
        .describe(
          "clone-disk, clone-instance: clone from the backup's copy in this region, onto an instance there or as a new instance there (then vSwitchId and securityGroupIds are required)",
        ),
    })
    .superRefine((body, ctx) => {
      const needs = (path: 'diskId' | 'targetInstanceId') =>
        ctx.addIssue({ code: 'custom', path: [path], message: `required when mode is ${body.mode}` });
      const refuses = (path: string, why: string) =>
        ctx.addIssue({ code: 'custom', path: [path], message: why });
      if (body.mode === CLONE_INSTANCE) {
        for (const path of ['diskId', 'targetInstanceId', 'stopInstance'] as const) {
          if (body[path] !== undefined)
            refuses(
              path,
              'clone-instance launches a new instance from every disk of the backup; leave it out',
            );
        }
        return;
      }
      for (const path of CLONE_FIELDS) {
        if (body[path] !== undefined) refuses(path, 'only clone-instance takes it');
      }
      if (body.mode !== 'rollback-instance' && body.diskId === undefined) needs('diskId');
      if (body.mode === 'rollback-instance' && body.diskId !== undefined) {
        refuses('diskId', 'rollback-instance restores every disk of the backup; leave diskId out');
      }
      if (body.mode === 'clone-disk' && body.targetInstanceId === undefined) needs('targetInstanceId');
      if (body.mode !== 'clone-disk' && body.targetInstanceId !== undefined) {
        refuses(
          'targetInstanceId',
          'only clone-disk attaches to another instance; a rollback resets the disks in place',
        );
      }
      if (body.regionId !== undefined && body.mode !== 'clone-disk') {
        // ECS: a copy cannot roll back the disk its source snapshot was taken of.
        refuses(
          'regionId',
          'a copy in another region can only be cloned (mode clone-disk or clone-instance), not rolled back',
        );
      }
      if (!ROLLBACK.has(body.mode) && body.stopInstance !== undefined) {
        refuses('stopInstance', 'only a rollback stops the instance');
      }
    }),
  'RestoreRequest',
  'rollback-disk {diskId, stopInstance?}, rollback-instance {stopInstance?} (the instance must be Stopped unless stopInstance), clone-disk {diskId, targetInstanceId}, clone-instance {instanceType?, vSwitchId?, securityGroupIds?, instanceName?, hostname?, keyPairName?, tags?, keepImage?} (defaults from the instance as backed up; there is no password field)',
);

const ttlMessage = `must be a whole number of hours 1-${MAX_MOUNT_TTL_HOURS}`;

export const mountBodySchema = named(
  z.strictObject({
    diskId: diskIdSchema.describe('The disk of the backup whose snapshot is mounted'),
    targetInstanceId: instanceIdSchema.describe('The instance that gets the disk attached'),
    ttlHours: z
      .int({ error: ttlMessage })
      .min(1, { error: ttlMessage })
      .max(MAX_MOUNT_TTL_HOURS, { error: ttlMessage })
      .optional()
      .describe('Unmounted automatically after this long (default 24)'),
  }),
  'MountRequest',
  'Attach a disk created from one snapshot of the backup to an instance, for a while',
);

export const mountPathSchema = jobPathSchema;

export const mountView = named(
  z.object({
    jobId: z.string().describe('The mount job; unmount with POST /mounts/{jobId}/unmount'),
    backupId: z.string(),
    instanceId: z.string(),
    diskId: z.string(),
    device: z.string().nullable(),
    sourceDiskId: z.string(),
    snapshotId: z.string(),
    mountedAt: isoTime,
    expiresAt: isoTime,
    unmount: z
      .object({ jobId: z.string(), status: z.string(), reason: z.string().nullable() })
      .nullable()
      .describe('The unmount under way (or failed), if any'),
  }),
  'Mount',
  'A disk created from a backup snapshot and attached to an instance',
);

export const mountPage = pageOf(
  mountView,
  'MountPage',
  'Active mounts; a page may hold fewer than `limit` items while more follow',
);
