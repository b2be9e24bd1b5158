import { createApiHandler } from '../../lib/api/app.js';
import { getDeps } from '../../lib/runtime/deps.js';
import type { FcContext, FcHttpResponse } from '../../lib/runtime/fc.js';

const api = createApiHandler(getDeps);

/** FC 3.0 HTTP trigger entry: the event is the JSON HTTP event as a Buffer. */
export async function handler(event: Buffer, context: FcContext): Promise<FcHttpResponse> {
  return api(event, context);
}
