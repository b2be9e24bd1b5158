import type { FcCredentials } from './fc.js';

let fromContext: FcCredentials | undefined;

/**
 * FC hands every invocation the function role's STS credentials in `context.credentials`; they
 * rotate, so the latest invocation's set is the one to sign with. Called by the functions' middleware.
 */
export function rememberInvocationCredentials(credentials: FcCredentials | undefined): void {
  if (credentials?.accessKeyId && credentials.accessKeySecret) fromContext = credentials;
}

/** The credentials to call Alibaba Cloud with now: the invocation's STS set, else the environment. */
export function currentCredentials(env: Record<string, string | undefined> = process.env): FcCredentials {
  if (fromContext) return fromContext;
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  if (!accessKeyId || !accessKeySecret) {
    throw new Error(
      'no Alibaba Cloud credentials: FC passes STS credentials in the invocation context; ' +
        'elsewhere set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    );
  }
  const token = env.ALIBABA_CLOUD_SECURITY_TOKEN;
  return token ? { accessKeyId, accessKeySecret, securityToken: token } : { accessKeyId, accessKeySecret };
}
