import { ok } from '../answers.js';
import { defineRoute, type Route } from '../router.js';
import { healthView } from '../schemas/common.js';

/** Liveness: its own module, so answering it loads no other route or schema. */
export const healthRoute: Route = defineRoute({
  method: 'GET',
  path: '/healthz',
  operationId: 'getHealth',
  summary: 'Liveness check (no credential needed)',
  tag: 'meta',
  public: true,
  responses: { 200: { description: 'The function is up', schema: healthView } },
  handle: async () => ok({ status: 'ok' }),
});
