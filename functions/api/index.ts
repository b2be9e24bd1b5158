import { createApiHandler } from '../../lib/api/app.js';
import { installCloudDepsFactory } from '../../lib/runtime/build-deps.js';
import { rememberInvocationCredentials } from '../../lib/runtime/credentials.js';
import { getDeps } from '../../lib/runtime/deps.js';
import type { FcContext, FcHttpResponse } from '../../lib/runtime/fc.js';

installCloudDepsFactory();
const api = createApiHandler(getDeps);

/** FC 3.0 HTTP trigger entry: the event is the JSON HTTP event as a Buffer. */
export async function handler(event: Buffer, context: FcContext): Promise<FcHttpResponse> {
  // The function role's STS credentials arrive with each invocation and rotate.
  rememberInvocationCredentials(context?.credentials);
  return api(event, context);
}
