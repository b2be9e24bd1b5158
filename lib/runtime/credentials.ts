import type { FcCredentials } from './fc.js';

/**
 * The credentials one function instance signs with. FC hands every invocation the function role's
 * STS credentials in `context.credentials`; they rotate, so the latest invocation's set is the one
 * to use, read by every adapter on every request. Outside FC the environment's keys are used.
 */
export class InvocationCredentials {
  private latest: FcCredentials | undefined;

  constructor(private readonly env: Record<string, string | undefined> = process.env) {}

  remember(credentials: FcCredentials | undefined): void {
    if (credentials?.accessKeyId && credentials.accessKeySecret) this.latest = credentials;
  }

  current(): FcCredentials {
    if (this.latest) return this.latest;
    return credentialsFromEnvironment(this.env);
  }
}

export function credentialsFromEnvironment(env: Record<string, string | undefined>): FcCredentials {
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
