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
import { LazyRouter } from './lazy-router.js';
import { routeLoaders } from './routes/lazy.js';

/**
 * The API as one FC HTTP handler. Order matters: errors are mapped outermost; auth runs before a
 * missing route is reported (the console's static files need neither); validation precedes the idempotency lease.
 */
export function createApiHandler(
  load: () => Promise<Deps>,
  consoleFiles: ConsoleFiles | null = null,
): (event: Buffer, context: FcContext) => Promise<FcHttpResponse> {
  // FC passes no getRemainingTimeInMillis, and the function's own timeout bounds a request anyway.
  // Per handler, so each instance (and each test's handler) loads the routes it serves itself.
  const router = new LazyRouter(routeLoaders);
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
