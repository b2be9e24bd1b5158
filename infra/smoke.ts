import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { openApiCaller, type ApiCall } from './deploy/http.js';

/**
 * `npm run smoke`: after a deploy, invokes each function through the Function Compute 3.0 API
 * (InvokeFunction, 2023-03-30) with an event that changes nothing, and reports what each answer
 * proves: the bundle loads, the role's credentials reach Tablestore, MNS and ECS, the API token
 * secret is readable. Settings: ACCOUNT_ID, DEPLOY_REGION, DEPLOY_NAME, API_TOKEN (or
 * .deploy/api-token) and the deploying identity's keys.
 */

export interface SmokeCheck {
  name: string;
  fn: string;
  event: unknown;
  /** What a good answer proves, or why it is not good. */
  judge(answer: unknown): { ok: boolean; detail: string };
}

const timer = (payload = '') => ({ triggerTime: new Date().toISOString(), triggerName: 'smoke', payload });

export function smokeChecks(name: string, token: string): SmokeCheck[] {
  const http = (rawPath: string, auth: boolean) => ({
    version: 'v1',
    rawPath,
    headers: auth ? { authorization: `Bearer ${token}` } : {},
    queryParameters: {},
    body: '',
    isBase64Encoded: false,
    requestContext: {
      requestId: `smoke-${Date.now()}`,
      http: { method: 'GET', path: rawPath, sourceIp: '127.0.0.1' },
    },
  });
  const status = (a: unknown) => (a as { statusCode?: number }).statusCode;
  return [
    {
      name: 'api loads (GET /healthz)',
      fn: `${name}-api`,
      event: http('/healthz', false),
      judge: (a) => ({ ok: status(a) === 200, detail: `status ${status(a)}` }),
    },
    {
      name: 'api token from KMS, ECS through the role (GET /api/v1/instances)',
      fn: `${name}-api`,
      event: http('/api/v1/instances', true),
      judge: (a) => ({
        ok: status(a) === 200,
        detail: status(a) === 401 ? 'token refused: is API_TOKEN the deployed one?' : `status ${status(a)}`,
      }),
    },
    {
      name: 'scheduler reads plans (Tablestore) and can send (MNS)',
      fn: `${name}-scheduler`,
      event: timer(),
      judge: (a) => ({ ok: typeof (a as { plans?: unknown }).plans === 'number', detail: JSON.stringify(a) }),
    },
    {
      name: 'retention scans one unknown instance (Tablestore)',
      fn: `${name}-retention`,
      event: timer('{"instanceId":"i-smoke0000"}'),
      judge: (a) => ({
        ok: typeof (a as { examined?: unknown }).examined === 'number',
        detail: JSON.stringify(a),
      }),
    },
    {
      name: 'worker loads and validates its events',
      fn: `${name}-worker`,
      event: { smoke: true },
      judge: (a) => ({ ok: (a as { ok?: boolean }).ok === false, detail: JSON.stringify(a).slice(0, 200) }),
    },
  ];
}

async function main(): Promise<void> {
  const env = process.env;
  const region = env.DEPLOY_REGION ?? env.ECS_REGION ?? 'cn-hangzhou';
  const name = env.DEPLOY_NAME ?? 'ecs-backup';
  if (!env.ACCOUNT_ID || !env.ALIBABA_CLOUD_ACCESS_KEY_ID || !env.ALIBABA_CLOUD_ACCESS_KEY_SECRET)
    throw new Error(
      'smoke needs ACCOUNT_ID, ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    );
  const { resolveApiToken } = await import('./deploy/main.js');
  const token = resolveApiToken(env).token;
  const call = openApiCaller({
    accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    ...(env.ALIBABA_CLOUD_SECURITY_TOKEN ? { securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN } : {}),
  });
  let failed = 0;
  for (const check of smokeChecks(name, token)) {
    const request: ApiCall = {
      endpoint: `${env.ACCOUNT_ID}.${region}.fc.aliyuncs.com`,
      version: '2023-03-30',
      action: 'InvokeFunction',
      style: 'ROA',
      method: 'POST',
      pathname: `/2023-03-30/functions/${check.fn}/invocations`,
      body: check.event,
    };
    let verdict: { ok: boolean; detail: string };
    try {
      verdict = check.judge(await call(request));
    } catch (err) {
      verdict = { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
    if (!verdict.ok) failed += 1;
    console.log(`${verdict.ok ? 'ok  ' : 'FAIL'}  ${check.name}  (${verdict.detail})`);
  }
  if (failed > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`smoke failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
