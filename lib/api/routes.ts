/**
 * The route table of `/api/v1`. Each route names its schemas (validation and OpenAPI), calls one
 * management use case and shapes the answer; refusals become problem documents in `unwrap`.
 */
import { z } from 'zod';
import type { JobFilter, PageRequest, PointFilter } from '../ports/store.js';
import { deleteBackup, getBackup, listBackups, setBackupExpiry } from '../usecases/management/backups.js';
import {
  getProtectedInstance,
  listInstances,
  listProtectedInstances,
} from '../usecases/management/instances.js';
import { cancelJob, getJob, listJobs } from '../usecases/management/jobs.js';
import {
  createPlan,
  deletePlan,
  getPlan,
  listPlans,
  resume,
  retentionPreview,
  runPlan,
  suspend,
  updatePlan,
} from '../usecases/management/plans.js';
import { backupNow, protectInstance, stopProtection } from '../usecases/management/protect.js';
import type { ApiResponse } from './http.js';
import { openApiDocument } from './openapi.js';
import { recoveryRoutes } from './routes-recovery.js';
import { unwrap, withClientCursor } from './outcomes.js';
import type { Route } from './router.js';
import { defineRoute } from './router.js';
import {
  backupNowBodySchema,
  backupPage,
  backupPatchSchema,
  backupPathSchema,
  backupQuerySchema,
  backupView,
  createPlanBodySchema,
  healthView,
  instancePage,
  instancePathSchema,
  instanceQuerySchema,
  jobPage,
  jobPathSchema,
  jobQuerySchema,
  jobView,
  listQuerySchema,
  planChangeSchema,
  planPage,
  planPathSchema,
  planQuerySchema,
  planView,
  protectBodySchema,
  protectedInstancePage,
  protectedInstanceView,
  protectResultView,
  retentionPreviewView,
  stopProtectionView,
} from './schemas.js';
import {
  toBackupView,
  toInstanceView,
  toJobView,
  toPageView,
  toPlanView,
  toProtectedInstanceView,
  toRetentionPreviewView,
} from './views.js';

export const API_PREFIX = '/api/v1';

const ok = (body: unknown, headers?: Record<string, string>): ApiResponse => ({ status: 200, body, headers });
const created = (body: unknown, location: string): ApiResponse => ({
  status: 201,
  body,
  headers: { location },
});
const accepted = (jobId: string, body: unknown): ApiResponse => ({
  status: 202,
  body,
  headers: { location: `${API_PREFIX}/jobs/${encodeURIComponent(jobId)}` },
});

function pageRequest(q: { limit: number; cursor?: string; order: 'asc' | 'desc' }): PageRequest {
  return q.cursor === undefined
    ? { limit: q.limit, order: q.order }
    : { limit: q.limit, cursor: q.cursor, order: q.order };
}

const openApiDoc = z.record(z.string(), z.unknown());

export const routes: Route[] = [
  defineRoute({
    method: 'GET',
    path: '/healthz',
    operationId: 'getHealth',
    summary: 'Liveness check (no credential needed)',
    tag: 'meta',
    public: true,
    responses: { 200: { description: 'The function is up', schema: healthView } },
    handle: async () => ok({ status: 'ok' }),
  }),
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/openapi.json`,
    operationId: 'getOpenApi',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'meta',
    responses: { 200: { description: 'OpenAPI 3.1 document', schema: openApiDoc } },
    handle: async () => ok(openApiDocument(routes)),
  }),

  // ---------------------------------------------------------------- ECS instances
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/instances`,
    operationId: 'listInstances',
    summary: 'ECS instances of the region with disks, Cloud Assistant status and protection',
    description: 'Ordered by instance id (ECS reports no creation time); `protected` filters.',
    tag: 'instances',
    query: instanceQuerySchema,
    responses: { 200: { description: 'One page of instances', schema: instancePage } },
    handle: async ({ query }, { deps }) => {
      const page = unwrap(
        await listInstances(deps, {
          limit: query.limit,
          ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
          ...(query.protected === undefined ? {} : { protected: query.protected === 'true' }),
        }),
      );
      return ok(toPageView(page, toInstanceView));
    },
  }),

  // ---------------------------------------------------------------- protected instances
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
      const page = await withClientCursor(() => listProtectedInstances(deps, pageRequest(query)));
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

  // ---------------------------------------------------------------- plans
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/plans`,
    operationId: 'listPlans',
    summary: 'Plans, newest first',
    tag: 'plans',
    query: planQuerySchema,
    responses: { 200: { description: 'One page', schema: planPage } },
    handle: async ({ query }, { deps }) => {
      const page = await withClientCursor(() =>
        listPlans(
          deps,
          stripUndefined({ instanceId: query.instanceId, state: query.state }),
          pageRequest(query),
        ),
      );
      return ok(toPageView(page, toPlanView));
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${API_PREFIX}/plans`,
    operationId: 'createPlan',
    summary: 'Create a plan for an instance (protecting it if needed)',
    tag: 'plans',
    body: createPlanBodySchema,
    bodyRequired: true,
    responses: { 201: { description: 'Created', schema: planView } },
    problems: [404, 409],
    handle: async ({ body }, { deps }) => {
      const plan = unwrap(await createPlan(deps, body));
      return created(toPlanView(plan), `${API_PREFIX}/plans/${encodeURIComponent(plan.id)}`);
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/plans/{planId}`,
    operationId: 'getPlan',
    summary: 'One plan',
    tag: 'plans',
    params: planPathSchema,
    responses: { 200: { description: 'The plan', schema: planView } },
    problems: [404],
    handle: async ({ params }, { deps }) => ok(toPlanView(unwrap(await getPlan(deps, params.planId)))),
  }),
  defineRoute({
    method: 'PATCH',
    path: `${API_PREFIX}/plans/{planId}`,
    operationId: 'updatePlan',
    summary: 'Modify a plan: schedule, retention, long-term rules, disks, consistency, name',
    tag: 'plans',
    params: planPathSchema,
    body: planChangeSchema,
    bodyRequired: true,
    responses: { 200: { description: 'The changed plan', schema: planView } },
    problems: [404, 409],
    handle: async ({ params, body }, { deps }) =>
      ok(toPlanView(unwrap(await updatePlan(deps, params.planId, stripUndefined(body))))),
  }),
  defineRoute({
    method: 'DELETE',
    path: `${API_PREFIX}/plans/{planId}`,
    operationId: 'deletePlan',
    summary: 'Delete a plan; its backups are kept',
    tag: 'plans',
    params: planPathSchema,
    responses: { 204: { description: 'Deleted' } },
    problems: [404],
    handle: async ({ params }, { deps }) => {
      unwrap(await deletePlan(deps, params.planId));
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${API_PREFIX}/plans/{planId}/run`,
    operationId: 'runPlan',
    summary: 'Run the plan now (one backup with its settings)',
    tag: 'plans',
    params: planPathSchema,
    responses: { 202: { description: 'Backup job started', schema: jobView } },
    problems: [404],
    handle: async ({ params }, { deps }) => {
      const job = unwrap(await runPlan(deps, params.planId));
      return accepted(job.id, toJobView({ job, point: null }));
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${API_PREFIX}/plans/{planId}/suspend`,
    operationId: 'suspendPlan',
    summary: 'Suspend: no new jobs; running ones finish',
    tag: 'plans',
    params: planPathSchema,
    responses: { 200: { description: 'The suspended plan', schema: planView } },
    problems: [404, 409],
    handle: async ({ params }, { deps }) => ok(toPlanView(unwrap(await suspend(deps, params.planId)))),
  }),
  defineRoute({
    method: 'POST',
    path: `${API_PREFIX}/plans/{planId}/resume`,
    operationId: 'resumePlan',
    summary: 'Resume at the next occurrence from now (missed runs are not replayed)',
    tag: 'plans',
    params: planPathSchema,
    responses: { 200: { description: 'The resumed plan', schema: planView } },
    problems: [404, 409],
    handle: async ({ params }, { deps }) => ok(toPlanView(unwrap(await resume(deps, params.planId)))),
  }),
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/plans/{planId}/retention-preview`,
    operationId: 'previewRetention',
    summary: 'Which existing backups of the instance the plan keeps and deletes, and why',
    tag: 'plans',
    params: planPathSchema,
    responses: { 200: { description: 'The preview', schema: retentionPreviewView } },
    problems: [404],
    handle: async ({ params }, { deps }) => {
      const p = unwrap(await retentionPreview(deps, params.planId));
      return ok(toRetentionPreviewView(p.plan.id, p.evaluatedAt, p.rows));
    },
  }),

  // ---------------------------------------------------------------- jobs
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/jobs`,
    operationId: 'listJobs',
    summary: 'Jobs, newest first; filter by type, status (comma list), instance, plan, creation time',
    tag: 'jobs',
    query: jobQuerySchema,
    responses: { 200: { description: 'One page', schema: jobPage } },
    handle: async ({ query }, { deps }) => {
      const filter: JobFilter = stripUndefined({
        type: query.type,
        status: query.status,
        instanceId: query.instanceId,
        planId: query.planId,
        from: query.from,
        to: query.to,
      });
      const page = await withClientCursor(() => listJobs(deps, filter, pageRequest(query)));
      return ok(toPageView(page, toJobView));
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/jobs/{jobId}`,
    operationId: 'getJob',
    summary: 'One job: step, progress, consistency achieved and why, errors',
    tag: 'jobs',
    params: jobPathSchema,
    responses: { 200: { description: 'The job', schema: jobView } },
    problems: [404],
    handle: async ({ params }, { deps }) => ok(toJobView(unwrap(await getJob(deps, params.jobId)))),
  }),
  defineRoute({
    method: 'POST',
    path: `${API_PREFIX}/jobs/{jobId}/cancel`,
    operationId: 'cancelJob',
    summary: 'Cancel a job; its next step honours the request',
    tag: 'jobs',
    params: jobPathSchema,
    responses: { 202: { description: 'Cancellation requested', schema: jobView } },
    problems: [404, 409],
    handle: async ({ params }, { deps }) => {
      const details = unwrap(await cancelJob(deps, params.jobId));
      return accepted(details.job.id, toJobView(details));
    },
  }),

  // ---------------------------------------------------------------- backups
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/backups`,
    operationId: 'listBackups',
    summary: 'Backups, newest first; filter by instance, plan, status, completion time',
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
      const page = await withClientCursor(() => listBackups(deps, filter, pageRequest(query)));
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
    summary: 'Set the expiry of one backup',
    tag: 'backups',
    params: backupPathSchema,
    body: backupPatchSchema,
    bodyRequired: true,
    responses: { 200: { description: 'The changed backup', schema: backupView } },
    problems: [404, 409],
    handle: async ({ params, body }, { deps }) =>
      ok(toBackupView(unwrap(await setBackupExpiry(deps, params.backupId, body.expireAt)))),
  }),
  defineRoute({
    method: 'DELETE',
    path: `${API_PREFIX}/backups/{backupId}`,
    operationId: 'deleteBackup',
    summary: 'Delete a backup and its snapshots; refused while a mount, restore or export uses it',
    tag: 'backups',
    params: backupPathSchema,
    responses: { 200: { description: 'The backup, now DELETED', schema: backupView } },
    problems: [404, 409],
    handle: async ({ params }, { deps }) =>
      ok(toBackupView(unwrap(await deleteBackup(deps, params.backupId, 'deleted through the API')))),
  }),
  ...recoveryRoutes,
];

/** Optional fields left out rather than set to undefined, as the ports' filters expect. */
function stripUndefined<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
