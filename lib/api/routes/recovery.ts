/**
 * Routes of restore and mount (design §2): each starts a job and answers 202 with it, like a backup
 * run; the job's type tells them apart in `GET /jobs`. Refusals that can be known before any write
 * (instance running for a rollback, point being deleted, disk not in the point) are answered here.
 */
import { listMounts, requestMount, requestUnmount } from '../../usecases/mount/mounts.js';
import { requestRestore } from '../../usecases/restore/requests.js';
import { requestClone } from '../../usecases/clone/requests.js';
import { CLONE_INSTANCE, cloneRequest } from '../schemas/clone.js';
import { accepted, API_PREFIX, ok } from '../answers.js';
import { boundPage } from '../cursor.js';
import { unwrap } from '../outcomes.js';
import { defineRoute, type Route } from '../router.js';
import { backupPathSchema } from '../schemas/backups.js';
import { listQuerySchema } from '../schemas/common.js';
import { jobView } from '../schemas/jobs.js';
import { mountBodySchema, mountPage, mountPathSchema, restoreBodySchema } from '../schemas/recovery.js';
import { toJobView, toMountView, toPageView } from '../views.js';

export const recoveryRoutes: Route[] = [
  defineRoute({
    method: 'POST',
    path: `${API_PREFIX}/backups/{backupId}/restore`,
    operationId: 'restoreBackup',
    summary:
      'Restore from a backup: roll back a disk or the whole instance, clone a disk to an instance, or clone the whole instance',
    description:
      'A rollback needs the instance Stopped (409 otherwise) unless `stopInstance` is true; the backup is in use (not deletable) while the job runs. `clone-instance` launches a new instance from an image of the backup (a `clone` job; the new instance id is `state.newInstanceId`); its type must be sold in the zone of its vSwitch (checked with DescribeAvailableResource). With `regionId` (a region the backup was copied to) both modes clone from the copy there; `clone-instance` then needs `vSwitchId` and `securityGroupIds` of that region. There is no password field.',
    tag: 'backups',
    params: backupPathSchema,
    body: restoreBodySchema,
    bodyRequired: true,
    responses: { 202: { description: 'Restore job started', schema: jobView } },
    problems: [404, 409],
    handle: async ({ params, body }, { deps }) => {
      if (body.mode === CLONE_INSTANCE) {
        const request = cloneRequest(body);
        // A region other than the deployment's: the clone is made from the backup's copy there.
        if (body.regionId !== undefined && body.regionId !== deps.ecs.regionId)
          request.regionId = body.regionId;
        const clone = unwrap(await requestClone(deps, params.backupId, request));
        return accepted(clone.id, toJobView({ job: clone, point: null }));
      }
      const job = unwrap(
        await requestRestore(deps, params.backupId, {
          mode: body.mode,
          ...(body.diskId === undefined ? {} : { diskId: body.diskId }),
          ...(body.targetInstanceId === undefined ? {} : { targetInstanceId: body.targetInstanceId }),
          ...(body.stopInstance === undefined ? {} : { stopInstance: body.stopInstance }),
          ...(body.regionId === undefined ? {} : { regionId: body.regionId }),
        }),
      );
      return accepted(job.id, toJobView({ job, point: null }));
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${API_PREFIX}/backups/{backupId}/mount`,
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
    path: `${API_PREFIX}/mounts`,
    operationId: 'listMounts',
    summary: 'Active mounts: job, disk, device, expiry',
    tag: 'jobs',
    query: listQuerySchema,
    responses: { 200: { description: 'One page', schema: mountPage } },
    handle: async ({ query }, { deps }) => {
      const page = await boundPage(deps, 'mounts', query, (p) => listMounts(deps, p));
      return ok(toPageView(page, toMountView));
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${API_PREFIX}/mounts/{jobId}/unmount`,
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
