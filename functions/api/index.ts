import { createApiHandler } from '../../lib/api/app.js';
import { coldStart, type FcFunction } from '../../lib/runtime/cold-start.js';
import type { Deps } from '../../lib/runtime/deps.js';
import type { FcHttpResponse } from '../../lib/runtime/fc.js';

/** The API on the given dependencies (the local cloud and tests pass theirs). */
export function createHandler(deps: Deps): FcFunction<FcHttpResponse> {
  return createApiHandler(() => Promise.resolve(deps));
}

/** FC 3.0 HTTP trigger entry: the event is the JSON HTTP event as a Buffer. */
export const handler: FcFunction<FcHttpResponse> = coldStart(createHandler);
