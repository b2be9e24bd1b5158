import { getProtectedInstance, listProtectedInstances } from '../../usecases/management/instances.js';
import { backupNow, protectInstance, stopProtection } from '../../usecases/management/protect.js';
import { accepted, API_PREFIX, created, ok, stripUndefined } from '../answers.js';
import { boundPage } from '../cursor.js';
import { unwrap } from '../outcomes.js';
import { defineRoute, type Route } from '../router.js';
import { listQuerySchema } from '../schemas/common.js';
import { jobView } from '../schemas/jobs.js';
import {
  backupNowBodySchema,
  instancePathSchema,
  protectBodySchema,
  protectedInstancePage,
  protectedInstanceView,
  protectResultView,
  stopProtectionView,
} from '../schemas/protected-instances.js';
import { toJobView, toPageView, toPlanView, toProtectedInstanceView } from '../views.js';

export const protectedInstanceRoutes: Route[] = [
  defineRoute({
    method: 'POST',
    path: `${API_PREFIX}/protected-instances`,
    operationId: 'protectInstance',
    summary: 'Protect an instance with a plan, or with one backup now',
    tag: 'protected-instances',
    body: protectBodySchema,
    bodyRequired: true,
    responses: { 201: { description: 'Protected', schema: protectResultView } },
    problems: [404, 409],
    handle: async ({ body }, { deps }) => {
      const result = unwrap(
        await protectInstance(deps, {
          instanceId: body.instanceId,
          disks: body.disks,
          ...(body.plan === undefined ? {} : { plan: body.plan }),
        }),
      );
      return created(
        {
          protectedInstance: toProtectedInstanceView({
            protectedInstance: result.protectedInstance,
            plan: result.plan,
          }),
          plan: result.plan === null ? null : toPlanView(result.plan),
          job: result.job === null ? null : toJobView({ job: result.job, point: null }),
        },
        `${API_PREFIX}/protected-instances/${body.instanceId}`,
      );
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/protected-instances`,
    operationId: 'listProtectedInstances',
    summary: 'Protected instances, newest first',
    tag: 'protected-instances',
    query: listQuerySchema,
    responses: { 200: { description: 'One page', schema: protectedInstancePage } },
    handle: async ({ query }, { deps }) => {
      const page = await boundPage(deps, 'protected-instances', query, (p) =>
        listProtectedInstances(deps, p),
      );
      return ok(toPageView(page, toProtectedInstanceView));
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/protected-instances/{instanceId}`,
    operationId: 'getProtectedInstance',
    summary: 'One protected instance and its plan',
    tag: 'protected-instances',
    params: instancePathSchema,
    responses: { 200: { description: 'The protected instance', schema: protectedInstanceView } },
    problems: [404],
    handle: async ({ params }, { deps }) =>
      ok(toProtectedInstanceView(unwrap(await getProtectedInstance(deps, params.instanceId)))),
  }),
  defineRoute({
    method: 'DELETE',
    path: `${API_PREFIX}/protected-instances/{instanceId}`,
    operationId: 'stopProtection',
    summary: 'Stop protection: the instance plans are deleted, its backups kept',
    tag: 'protected-instances',
    params: instancePathSchema,
    responses: { 200: { description: 'Protection stopped', schema: stopProtectionView } },
    problems: [404, 409],
    handle: async ({ params }, { deps }) => ok(unwrap(await stopProtection(deps, params.instanceId))),
  }),
  defineRoute({
    method: 'POST',
    path: `${API_PREFIX}/protected-instances/{instanceId}/backups`,
    operationId: 'backupNow',
    summary: 'Protect now: one backup of a protected instance',
    tag: 'protected-instances',
    params: instancePathSchema,
    body: backupNowBodySchema,
    responses: { 202: { description: 'Backup job started', schema: jobView } },
    problems: [404],
    handle: async ({ params, body }, { deps }) => {
      const job = unwrap(await backupNow(deps, params.instanceId, stripUndefined(body ?? {})));
      return accepted(job.id, toJobView({ job, point: null }));
    },
  }),
];
