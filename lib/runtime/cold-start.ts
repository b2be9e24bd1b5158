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
 * Once built, it logs `instance ready` with the milliseconds since the process started.
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
    handler ??= settingsFor(env, credentials)
      .then((settings) => buildCloudDeps(settings, { credentials: () => credentials.current() }))
      .then(
        (built) => {
          // How long this instance took to start, in the function's log: the part of a cold start
          // this code controls (Node's own start and FC's are before it).
          built.deps.log.info('instance ready', { msSinceProcessStart: Math.round(performance.now()) });
          return create(built.deps);
        },
        (err: unknown) => {
          handler = undefined;
          throw err;
        },
      );
    return (await handler)(event, context);
  };
}

/**
 * The settings from the environment; with API_TOKEN_SECRET set (the deployed api function), the
 * API token is read from KMS Secrets Manager once per instance instead of from the environment.
 */
async function settingsFor(env: Record<string, string | undefined>, credentials: InvocationCredentials) {
  const secret = env.API_TOKEN_SECRET;
  if (!secret || env.API_TOKEN) return loadSettings(env);
  const region = env.ECS_REGION ?? 'cn-hangzhou';
  // Loaded here only: the KMS client is the OpenAPI SDK, which no other function needs at cold start.
  const { readSecret } = await import('./secret.js');
  const token = await readSecret({
    name: secret,
    endpoint: env.KMS_ENDPOINT ?? `kms.${region}.aliyuncs.com`,
    credentials: credentials.current(),
  });
  return loadSettings({ ...env, API_TOKEN: token });
}
