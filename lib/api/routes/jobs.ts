import type { JobFilter } from '../../ports/store.js';
import { cancelJob, getJob, listJobs } from '../../usecases/management/jobs.js';
import { accepted, API_PREFIX, ok, stripUndefined } from '../answers.js';
import { boundPage } from '../cursor.js';
import { unwrap } from '../outcomes.js';
import { defineRoute, type Route } from '../router.js';
import { jobPage, jobPathSchema, jobQuerySchema, jobView } from '../schemas/jobs.js';
import { toJobView, toPageView } from '../views.js';

export const jobRoutes: Route[] = [
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
      const page = await boundPage(deps, 'jobs', query, (p) => listJobs(deps, filter, p));
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
];
