/**
 * Routes of restore and mount (design §2): each starts a job and answers 202 with it, like a backup
 * run; the job's type tells them apart in `GET /jobs`. Refusals that can be known before any write
 * (instance running for a rollback, point being deleted, disk not in the point) are answered here.
 */
import { z } from 'zod';
import { diskIdSchema, instanceIdSchema } from '../domain/plan.js';
import { listMounts, requestMount, requestUnmount, type ActiveMount } from '../usecases/mount/mounts.js';
import { requestRestore } from '../usecases/restore/requests.js';
import { MAX_MOUNT_TTL_HOURS, RESTORE_MODES, recoveryState } from '../usecases/restore/state.js';
import type { ApiResponse } from './http.js';
import { unwrap, withClientCursor } from './outcomes.js';
import { defineRoute, type Route } from './router.js';
import { apiRegistry, backupPathSchema, jobPathSchema, jobView, listQuerySchema } from './schemas.js';
import { toJobView, toPageView } from './views.js';

/** Repeated rather than imported: routes.ts spreads this table while it is itself being evaluated. */
const PREFIX = '/api/v1';

const accepted = (jobId: string, body: unknown): ApiResponse => ({
  status: 202,
  body,
  headers: { location: `${PREFIX}/jobs/${encodeURIComponent(jobId)}` },
});

function named<S extends z.ZodType>(schema: S, id: string, description: string): S {
  apiRegistry.add(schema, { id, description });
  return schema;
}

const ROLLBACK = new Set(['rollback-disk', 'rollback-instance']);

export const restoreBodySchema = named(
  z
    .strictObject({
      mode: z.enum(RESTORE_MODES, { error: `must be one of ${RESTORE_MODES.join(', ')}` }),
      diskId: diskIdSchema.optional().describe('The disk of the backup to roll back or clone'),
      targetInstanceId: instanceIdSchema
        .optional()
        .describe('clone-disk: the instance that receives the new disk'),
      stopInstance: z
        .boolean({ error: 'must be true or false' })
        .optional()
        .describe('Rollback: stop a running instance for the rollback and start it again after'),
    })
    .superRefine((body, ctx) => {
      const needs = (path: 'diskId' | 'targetInstanceId') =>
        ctx.addIssue({ code: 'custom', path: [path], message: `required when mode is ${body.mode}` });
      const refuses = (path: string, why: string) =>
        ctx.addIssue({ code: 'custom', path: [path], message: why });
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
      if (!ROLLBACK.has(body.mode) && body.stopInstance !== undefined) {
        refuses('stopInstance', 'only a rollback stops the instance');
      }
    }),
  'RestoreRequest',
  'rollback-disk {diskId, stopInstance?}, rollback-instance {stopInstance?} (the instance must be Stopped unless stopInstance), clone-disk {diskId, targetInstanceId}',
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

const isoTime = z.string().describe('ISO 8601 UTC time');

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

export const mountPage = named(
  z.object({
    items: z.array(mountView),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  }),
  'MountPage',
  'Active mounts; a page may hold fewer than `limit` items while more follow',
);

const iso = (t: number | undefined): string => new Date(t ?? 0).toISOString();

export function toMountView(m: ActiveMount): z.output<typeof mountView> {
  const st = recoveryState(m.job);
  const target = st.targets?.[0];
  return {
    jobId: m.job.id,
    backupId: m.point.id,
    instanceId: m.job.instanceId,
    diskId: st.diskId ?? '',
    device: st.device ?? null,
    sourceDiskId: target?.diskId ?? '',
    snapshotId: target?.snapshotId ?? '',
    mountedAt: iso(st.mountedAt),
    expiresAt: iso(st.expiresAt),
    unmount:
      m.unmount === null ? null : { jobId: m.unmount.id, status: m.unmount.status, reason: m.unmount.reason },
  };
}

export const recoveryRoutes: Route[] = [
  defineRoute({
    method: 'POST',
    path: `${PREFIX}/backups/{backupId}/restore`,
    operationId: 'restoreBackup',
    summary: 'Restore from a backup: roll back a disk or the whole instance, or clone a disk to an instance',
    description:
      'A rollback needs the instance Stopped (409 otherwise) unless `stopInstance` is true; the backup is in use (not deletable) while the job runs.',
    tag: 'backups',
    params: backupPathSchema,
    body: restoreBodySchema,
    bodyRequired: true,
    responses: { 202: { description: 'Restore job started', schema: jobView } },
    problems: [404, 409],
    handle: async ({ params, body }, { deps }) => {
      const job = unwrap(
        await requestRestore(deps, params.backupId, {
          mode: body.mode,
          ...(body.diskId === undefined ? {} : { diskId: body.diskId }),
          ...(body.targetInstanceId === undefined ? {} : { targetInstanceId: body.targetInstanceId }),
          ...(body.stopInstance === undefined ? {} : { stopInstance: body.stopInstance }),
        }),
      );
      return accepted(job.id, toJobView({ job, point: null }));
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${PREFIX}/backups/{backupId}/mount`,
    operationId: 'mountBackup',
    summary: 'Mount one disk of a backup on an instance for a while (default 24 h, at most 7 days)',
    tag: 'backups',
    params: backupPathSchema,
    body: mountBodySchema,
    bodyRequired: true,
    responses: { 202: { description: 'Mount job started', schema: jobView } },
    problems: [404, 409],
    handle: async ({ params, body }, { deps }) => {
      const job = unwrap(
        await requestMount(deps, params.backupId, {
          diskId: body.diskId,
          targetInstanceId: body.targetInstanceId,
          ...(body.ttlHours === undefined ? {} : { ttlHours: body.ttlHours }),
        }),
      );
      return accepted(job.id, toJobView({ job, point: null }));
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${PREFIX}/mounts`,
    operationId: 'listMounts',
    summary: 'Active mounts: job, disk, device, expiry',
    tag: 'jobs',
    query: listQuerySchema,
    responses: { 200: { description: 'One page', schema: mountPage } },
    handle: async ({ query }, { deps }) => {
      const page = await withClientCursor(() =>
        listMounts(
          deps,
          query.cursor === undefined
            ? { limit: query.limit, order: query.order }
            : { limit: query.limit, cursor: query.cursor, order: query.order },
        ),
      );
      return { status: 200, body: toPageView(page, toMountView) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${PREFIX}/mounts/{jobId}/unmount`,
    operationId: 'unmount',
    summary: 'Unmount: detach and delete the disk, release the backup',
    tag: 'jobs',
    params: mountPathSchema,
    responses: { 202: { description: 'Unmount job started (or the one under way)', schema: jobView } },
    problems: [404, 409],
    handle: async ({ params }, { deps }) => {
      const job = unwrap(await requestUnmount(deps, params.jobId, 'api'));
      return accepted(job.id, toJobView({ job, point: null }));
    },
  }),
];
