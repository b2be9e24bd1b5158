import { createHash, createHmac } from 'node:crypto';
import * as OpenApi from '@alicloud/openapi-client';
import { cjsDefault } from '../../lib/adapters/ecs/rpc-client.js';

const OpenApiClientClass = cjsDefault<typeof OpenApi.default.default>(OpenApi);
type OpenApiClient = InstanceType<typeof OpenApiClientClass>;

export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface ApiCall {
  endpoint: string;
  version: string;
  action: string;
  style: 'RPC' | 'ROA';
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  pathname?: string;
  query?: Record<string, string>;
  body?: unknown;
}

/** An error the cloud answered with: its code and HTTP status, for "does not exist" checks. */
export class CloudError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'CloudError';
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof CloudError && (err.status === 404 || /NotExist|NotFound|NoSuch/i.test(err.code));
}

/** Calls any Alibaba Cloud OpenAPI (RPC or ROA) with the official generic client. */
export function openApiCaller(credentials: Credentials): (call: ApiCall) => Promise<Record<string, unknown>> {
  const clients = new Map<string, OpenApiClient>();
  const clientFor = (endpoint: string) => {
    let client = clients.get(endpoint);
    if (client === undefined) {
      client = new OpenApiClientClass(
        new OpenApi.Config({ ...credentials, endpoint, readTimeout: 60_000, connectTimeout: 10_000 }),
      );
      clients.set(endpoint, client);
    }
    return client;
  };
  return async (call) => {
    const params = new OpenApi.Params({
      action: call.action,
      version: call.version,
      protocol: 'HTTPS',
      pathname: call.pathname ?? '/',
      method: call.method ?? 'POST',
      authType: 'AK',
      style: call.style,
      reqBodyType: call.style === 'RPC' ? 'formData' : 'json',
      bodyType: 'json',
    });
    const request = new OpenApi.OpenApiRequest({
      ...(call.query ? { query: call.query } : {}),
      ...(call.body !== undefined ? { body: call.body } : {}),
    });
    try {
      const res = await clientFor(call.endpoint).callApi(
        params,
        request,
        {} as Parameters<OpenApiClient['callApi']>[2],
      );
      return (res.body ?? {}) as Record<string, unknown>;
    } catch (err) {
      const e = err as {
        code?: string;
        statusCode?: number;
        data?: { statusCode?: number };
        message?: string;
      };
      throw new CloudError(
        `${call.action}: ${e.message ?? String(err)}`,
        e.code ?? 'Unknown',
        e.statusCode ?? e.data?.statusCode ?? 0,
      );
    }
  };
}

/**
 * OSS and SLS predate the OpenAPI gateway and sign requests their own way: HMAC-SHA1 over the verb,
 * Content-MD5, Content-Type, Date, the service's own headers and the resource.
 */
export async function signedRequest(options: {
  service: 'oss' | 'sls';
  credentials: Credentials;
  method: 'GET' | 'PUT' | 'POST';
  host: string;
  path: string;
  /** The resource as signed, e.g. `/bucket/?lifecycle` (OSS) or `/logstores/x` (SLS). */
  resource: string;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** `https://<host>` unless given (tests point it at a local server). */
  origin?: string;
}): Promise<{ status: number; text: string }> {
  const { credentials } = options;
  const body = options.body ?? '';
  const headers: Record<string, string> = { date: new Date().toUTCString(), ...options.headers };
  const prefix = options.service === 'oss' ? 'x-oss-' : 'x-log-';
  if (options.service === 'sls') {
    headers['x-log-apiversion'] = '0.6.0';
    headers['x-log-signaturemethod'] = 'hmac-sha1';
    headers['x-log-bodyrawsize'] = String(Buffer.byteLength(body));
  }
  if (credentials.securityToken) {
    headers[options.service === 'oss' ? 'x-oss-security-token' : 'x-acs-security-token'] =
      credentials.securityToken;
  }
  const md5 = body === '' ? '' : createHash('md5').update(body).digest('base64');
  if (md5 !== '') headers['content-md5'] = md5;
  if (options.contentType) headers['content-type'] = options.contentType;
  const signed = Object.keys(headers)
    .filter((k) => k.startsWith(prefix) || (options.service === 'sls' && k.startsWith('x-acs-')))
    .sort()
    .map((k) => `${k}:${headers[k]}`);
  const toSign = [
    options.method,
    md5,
    options.contentType ?? '',
    headers.date,
    ...signed,
    options.resource,
  ].join('\n');
  const signature = createHmac('sha1', credentials.accessKeySecret).update(toSign).digest('base64');
  headers.authorization = `${options.service === 'oss' ? 'OSS' : 'LOG'} ${credentials.accessKeyId}:${signature}`;
  const res = await fetch(`${options.origin ?? `https://${options.host}`}${options.path}`, {
    method: options.method,
    headers,
    ...(body !== '' ? { body } : {}),
  });
  return { status: res.status, text: await res.text() };
}
