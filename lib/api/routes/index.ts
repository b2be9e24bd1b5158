/**
 * The route table of `/api/v1`, one file per resource. Each route names its schemas (validation and
 * OpenAPI), calls one management use case and shapes the answer; refusals become problem documents
 * in `unwrap`.
 */
import { z } from 'zod';
import { API_PREFIX, ok } from '../answers.js';
import { openApiDocument } from '../openapi.js';
import { defineRoute, type Route } from '../router.js';
import { backupRoutes } from './backups.js';
import { exportRoutes } from './exports.js';
import { healthRoute } from './health.js';
import { instanceRoutes } from './instances.js';
import { jobRoutes } from './jobs.js';
import { planRoutes } from './plans.js';
import { protectedInstanceRoutes } from './protected-instances.js';
import { protectionRuleRoutes } from './protection-rules.js';
import { recoveryRoutes } from './recovery.js';
import { subscriptionRoutes } from './subscriptions.js';

const openApiDoc = z.record(z.string(), z.unknown());

const metaRoutes: Route[] = [
  healthRoute,
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/openapi.json`,
    operationId: 'getOpenApi',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'meta',
    responses: { 200: { description: 'OpenAPI 3.1 document', schema: openApiDoc } },
    handle: async () => ok(openApiDocument(routes)),
  }),
];

export const routes: Route[] = [
  ...metaRoutes,
  ...instanceRoutes,
  ...protectedInstanceRoutes,
  ...planRoutes,
  ...jobRoutes,
  ...backupRoutes,
  ...recoveryRoutes,
  ...subscriptionRoutes,
  ...exportRoutes,
  ...protectionRuleRoutes,
];
