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
} from '../../usecases/management/plans.js';
import { accepted, API_PREFIX, created, ok, stripUndefined } from '../answers.js';
import { boundPage } from '../cursor.js';
import { unwrap } from '../outcomes.js';
import { defineRoute, type Route } from '../router.js';
import { jobView } from '../schemas/jobs.js';
import {
  createPlanBodySchema,
  planChangeSchema,
  planPage,
  planPathSchema,
  planQuerySchema,
  planView,
  retentionPreviewView,
} from '../schemas/plans.js';
import { toJobView, toPageView, toPlanView, toRetentionPreviewView } from '../views.js';

export const planRoutes: Route[] = [
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/plans`,
    operationId: 'listPlans',
    summary: 'Plans, newest first',
    tag: 'plans',
    query: planQuerySchema,
    responses: { 200: { description: 'One page', schema: planPage } },
    handle: async ({ query }, { deps }) => {
      const filter = stripUndefined({ instanceId: query.instanceId, state: query.state });
      const page = await boundPage(deps, 'plans', query, (p) => listPlans(deps, filter, p));
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
];
