import { listInstances } from '../../usecases/management/instances.js';
import { API_PREFIX, ok } from '../answers.js';
import { boundPage } from '../cursor.js';
import { unwrap } from '../outcomes.js';
import { defineRoute, type Route } from '../router.js';
import { instancePage, instanceQuerySchema } from '../schemas/instances.js';
import { toInstanceView, toPageView } from '../views.js';

export const instanceRoutes: Route[] = [
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
      const page = await boundPage(deps, 'instances', query, async (p) =>
        unwrap(
          await listInstances(deps, {
            limit: p.limit ?? query.limit,
            ...(p.cursor === undefined ? {} : { cursor: p.cursor }),
            ...(query.protected === undefined ? {} : { protected: query.protected === 'true' }),
          }),
        ),
      );
      return ok(toPageView(page, toInstanceView));
    },
  }),
];
