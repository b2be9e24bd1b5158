import middy from '@middy/core';
import type { Deps } from '../runtime/deps.js';
import type { FcContext, FcHttpResponse } from '../runtime/fc.js';
import type { ConsoleFiles } from './console.js';
import { serveConsole } from './console.js';
import type { ApiEvent } from './middleware.js';
import {
  bearerAuth,
  decodeHttpEvent,
  dispatch,
  idempotencyKeys,
  injectDeps,
  problemResponses,
  routeRequest,
  validateRequest,
} from './middleware.js';
import { Router } from './router.js';
import { routes } from './routes/index.js';

export const router = new Router(routes);

/**
 * The API as one FC HTTP handler. Order matters: errors are mapped outermost; auth runs before a
 * missing route is reported (the console's static files need neither); validation precedes the idempotency lease.
 */
export function createApiHandler(
  load: () => Promise<Deps>,
  consoleFiles: ConsoleFiles | null = null,
): (event: Buffer, context: FcContext) => Promise<FcHttpResponse> {
  // FC passes no getRemainingTimeInMillis, and the function's own timeout bounds a request anyway.
  const api = middy<ApiEvent, FcHttpResponse, Error, FcContext>({ timeoutEarlyInMillis: 0 })
    .use(problemResponses())
    .use(decodeHttpEvent())
    .use(serveConsole(consoleFiles))
    .use(injectDeps(load))
    .use(routeRequest(router))
    .use(bearerAuth())
    .use(validateRequest())
    .use(idempotencyKeys())
    .handler(dispatch);
  return (event, context) => api({ raw: event }, context);
}
