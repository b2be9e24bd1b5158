import * as OpenApi from '@alicloud/openapi-client';
import { cjsDefault } from '../adapters/ecs/rpc-client.js';
import type { FcCredentials } from './fc.js';

const OpenApiClientClass = cjsDefault<typeof OpenApi.default.default>(OpenApi);

/**
 * Reads a KMS Secrets Manager secret (GetSecretValue, KMS 2016-01-20) with the function role's
 * credentials. The API token lives there, not in the function's environment, where anyone allowed
 * to read the function's configuration would see it.
 */
export async function readSecret(options: {
  name: string;
  /** `kms.<region>.aliyuncs.com`, or a URL (tests). */
  endpoint: string;
  credentials: FcCredentials;
}): Promise<string> {
  const url = /^https?:\/\//.test(options.endpoint)
    ? new URL(options.endpoint)
    : new URL(`https://${options.endpoint}`);
  const client = new OpenApiClientClass(
    new OpenApi.Config({
      accessKeyId: options.credentials.accessKeyId,
      accessKeySecret: options.credentials.accessKeySecret,
      ...(options.credentials.securityToken ? { securityToken: options.credentials.securityToken } : {}),
      endpoint: url.host,
      protocol: url.protocol.replace(':', ''),
      readTimeout: 10_000,
      connectTimeout: 5_000,
    }),
  );
  const params = new OpenApi.Params({
    action: 'GetSecretValue',
    version: '2016-01-20',
    protocol: url.protocol === 'http:' ? 'HTTP' : 'HTTPS',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  const res = await client.callApi(
    params,
    new OpenApi.OpenApiRequest({ query: { SecretName: options.name } }),
    {} as Parameters<InstanceType<typeof OpenApiClientClass>['callApi']>[2],
  );
  const data = (res.body as { SecretData?: unknown } | undefined)?.SecretData;
  if (typeof data !== 'string' || data === '') throw new Error(`KMS secret ${options.name} holds no text`);
  return data;
}
