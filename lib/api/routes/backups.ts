import type { PointFilter } from '../../ports/store.js';
import { BREAK_GLASS_HEADER } from '../../domain/lock.js';
import { changeBackup, deleteBackup, getBackup, listBackups } from '../../usecases/management/backups.js';
import { listBackupsByVerification } from '../../usecases/verify/list.js';
import { API_PREFIX, ok, stripUndefined } from '../answers.js';
import { checkBreakGlass } from '../auth.js';
import { boundPage } from '../cursor.js';
import { unwrap } from '../outcomes.js';
import { defineRoute, type Route } from '../router.js';
import {
  backupDeleteQuerySchema,
  backupPage,
  backupPatchSchema,
  backupPathSchema,
  backupQuerySchema,
  backupView,
} from '../schemas/backups.js';
import { toBackupView, toPageView } from '../views.js';

export const backupRoutes: Route[] = [
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/backups`,
    operationId: 'listBackups',
    summary: 'Backups, newest first; filter by instance, plan, status, completion time, verification',
    tag: 'backups',
    query: backupQuerySchema,
    responses: { 200: { description: 'One page', schema: backupPage } },
    handle: async ({ query }, { deps }) => {
      const filter: PointFilter = stripUndefined({
        instanceId: query.instanceId,
        planId: query.planId,
        status: query.status,
        from: query.from,
        to: query.to,
      });
      const wanted = query.verification;
      const page = await boundPage(deps, 'backups', query, (p) =>
        wanted ? listBackupsByVerification(deps, filter, p, wanted) : listBackups(deps, filter, p),
      );
      return ok(toPageView(page, toBackupView));
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/backups/{backupId}`,
    operationId: 'getBackup',
    summary: 'One backup: snapshot per disk, consistency, expiry, long-term keep',
    tag: 'backups',
    params: backupPathSchema,
    responses: { 200: { description: 'The backup', schema: backupView } },
    problems: [404],
    handle: async ({ params }, { deps }) => ok(toBackupView(unwrap(await getBackup(deps, params.backupId)))),
  }),
  defineRoute({
    method: 'PATCH',
    path: `${API_PREFIX}/backups/{backupId}`,
    operationId: 'updateBackup',
    summary: 'Set the expiry of one backup, or lock it',
    description: `A locked backup's expiry moves only later (409 naming expireAt otherwise); a governance lock yields to the break-glass token in the ${BREAK_GLASS_HEADER} header, and the override is recorded on the backup.`,
    tag: 'backups',
    params: backupPathSchema,
    body: backupPatchSchema,
    bodyRequired: true,
    responses: { 200: { description: 'The changed backup', schema: backupView } },
    problems: [404, 409],
    handle: async ({ params, body }, { deps, request }) => {
      const breakGlass = checkBreakGlass(
        request.headers[BREAK_GLASS_HEADER],
        deps.settings.BREAK_GLASS_TOKEN,
      );
      return ok(
        toBackupView(unwrap(await changeBackup(deps, params.backupId, stripUndefined(body), breakGlass))),
      );
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: `${API_PREFIX}/backups/{backupId}`,
    operationId: 'deleteBackup',
    summary: 'Delete a backup and its snapshots; refused while a mount, restore or export uses it',
    description:
      "The instance's only good backup is deleted only with `?confirm=last-good-backup` (409 without). " +
      `A locked backup is not deleted before its expiry (409); a governance lock yields to the break-glass token in the ${BREAK_GLASS_HEADER} header.`,
    tag: 'backups',
    params: backupPathSchema,
    query: backupDeleteQuerySchema,
    responses: { 200: { description: 'The backup, now DELETED', schema: backupView } },
    problems: [404, 409],
    handle: async ({ params, query }, { deps, request }) => {
      const breakGlass = checkBreakGlass(
        request.headers[BREAK_GLASS_HEADER],
        deps.settings.BREAK_GLASS_TOKEN,
      );
      const reason = breakGlass
        ? 'deleted through the API with the break-glass token'
        : 'deleted through the API';
      return ok(
        toBackupView(unwrap(await deleteBackup(deps, params.backupId, reason, query.confirm, breakGlass))),
      );
    },
  }),
];
