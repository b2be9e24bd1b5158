import { fileURLToPath } from 'node:url';
import { createApiHandler } from '../../lib/api/app.js';
import { loadConsoleFiles } from '../../lib/api/console.js';
import { coldStart, type FcFunction } from '../../lib/runtime/cold-start.js';
import type { Deps } from '../../lib/runtime/deps.js';
import type { FcHttpResponse } from '../../lib/runtime/fc.js';

/**
 * The API on the given dependencies (the local cloud and tests pass theirs). The console's files
 * come from `consoleDir`, by default the `console/` folder the build puts beside the bundle.
 */
export function createHandler(deps: Deps, consoleDir?: string): FcFunction<FcHttpResponse> {
  const dir = consoleDir ?? fileURLToPath(new URL('./console/', import.meta.url));
  return createApiHandler(() => Promise.resolve(deps), loadConsoleFiles(dir));
}

/** FC 3.0 HTTP trigger entry: the event is the JSON HTTP event as a Buffer. */
export const handler: FcFunction<FcHttpResponse> = coldStart(createHandler);
