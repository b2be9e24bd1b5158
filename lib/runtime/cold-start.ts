import { loadSettings } from '../config.js';
import { buildCloudDeps } from './cloud-deps.js';
import { InvocationCredentials } from './credentials.js';
import type { Deps } from './deps.js';
import type { FcContext } from './fc.js';

export type FcFunction<R> = (event: Buffer, context: FcContext) => Promise<R>;

/**
 * A function module's deployed handler: on the instance's first invocation it builds the
 * dependencies from the environment (once), hands them to `create`, and keeps the handler it gets.
 * Every invocation first records its STS credentials, which every adapter reads per request.
 * A failed build is not kept, so the next invocation tries again.
 */
export function coldStart<R>(
  create: (deps: Deps) => FcFunction<R>,
  env: Record<string, string | undefined> = process.env,
): FcFunction<R> {
  const credentials = new InvocationCredentials(env);
  let handler: Promise<FcFunction<R>> | undefined;
  return async (event, context) => {
    credentials.remember(context?.credentials);
    handler ??= buildCloudDeps(loadSettings(env), { credentials: () => credentials.current() }).then(
      (built) => create(built.deps),
      (err: unknown) => {
        handler = undefined;
        throw err;
      },
    );
    return (await handler)(event, context);
  };
}
