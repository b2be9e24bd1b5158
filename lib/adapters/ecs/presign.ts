import type * as OpenApiUtilModule from '@alicloud/openapi-util';
import type { EcsCredentials } from './rpc-client.js';
import { cjsDefault, ECS_API_VERSION } from './rpc-client.js';

export interface PresignInput {
  host: string;
  protocol: 'http' | 'https';
  action: string;
  /** Action parameters, already flattened (`DiskId.1`, `Tag.1.Key`, ...). */
  params: Record<string, string>;
  credentials: EcsCredentials;
  /** Epoch ms; ECS refuses a timestamp older than about 15 minutes. */
  now: number;
  nonce: string;
}

/** RFC 3986 percent-encoding, the one the v2 signature is computed over. */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `2026-11-27T16:32:40Z`: ECS wants UTC to the second. */
export function rpcTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A complete, signed classic-RPC (signature v1.0, HMAC-SHA1) GET request URL. Whoever holds it can
 * send it once (the nonce) within the timestamp window, without any key: this is how a guest script
 * starts the snapshot group while its file systems are frozen, with no RAM role or SDK on the instance.
 * The signature itself comes from the SDK's own util, so it matches what the SDK sends; that util
 * is imported here, on a backup's guest step, rather than at every function's cold start.
 */
export async function presignRpcGetUrl(input: PresignInput): Promise<string> {
  const OpenApiUtil = cjsDefault<typeof OpenApiUtilModule.default.default>(
    await import('@alicloud/openapi-util'),
  );
  const query: Record<string, string> = {
    ...input.params,
    Action: input.action,
    Version: ECS_API_VERSION,
    Format: 'JSON',
    AccessKeyId: input.credentials.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: input.nonce,
    Timestamp: rpcTimestamp(input.now),
  };
  if (input.credentials.securityToken) query.SecurityToken = input.credentials.securityToken;
  const signature = OpenApiUtil.getRPCSignature(query, 'GET', input.credentials.accessKeySecret);
  const encoded = Object.keys(query)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(query[k]!)}`);
  encoded.push(`Signature=${percentEncode(signature)}`);
  return `${input.protocol}://${input.host}/?${encoded.join('&')}`;
}
