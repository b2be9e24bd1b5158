import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { EcsApiError } from './errors.js';

/** Parameters that belong to the signing envelope, not to the action. */
export const ENVELOPE_PARAMS = new Set([
  'Action',
  'Version',
  'Format',
  'Timestamp',
  'SignatureNonce',
  'SignatureMethod',
  'SignatureVersion',
  'Signature',
  'AccessKeyId',
  'SecurityToken',
  'SignatureType',
]);

export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface SignedRequest {
  method: string;
  pathname: string;
  /** Decoded query parameters (first value of each key). */
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Percent-encoding of the Alibaba Cloud signature specs (RFC 3986 unreserved set). */
export function percentEncode(s: string): string {
  // Most keys and values are plain ids: skip the regex work on the hot path.
  if (/^[A-Za-z0-9_.~-]*$/.test(s)) return s;
  const e = encodeURIComponent(s);
  return /[!'()*]/.test(e)
    ? e
        .replace(/!/g, '%21')
        .replace(/'/g, '%27')
        .replace(/\(/g, '%28')
        .replace(/\)/g, '%29')
        .replace(/\*/g, '%2A')
    : e;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function header(req: SignedRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** RPC v2 (HMAC-SHA1) string to sign over every parameter except Signature. */
export function rpcSignature(method: string, params: Record<string, string>, secret: string): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k] ?? '')}`)
    .join('&');
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

/** V3 canonical request as `@alicloud/openapi-core` builds it for ACS3-HMAC-SHA256. */
export function v3Signature(
  req: SignedRequest,
  signedHeaders: string[],
  payloadHash: string,
  secret: string,
): string {
  const canonicalQuery = Object.keys(req.query)
    .sort()
    .map((k) => `${k}=${percentEncode(req.query[k] ?? '')}`)
    .join('&');
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${(header(req, h) ?? '').trim()}\n`).join('');
  const canonicalRequest = [
    req.method,
    req.pathname,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const stringToSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}

export interface AuthResult {
  signing: 'v3' | 'v2' | 'v2-get';
}

/**
 * Verifies either signing style against one key pair, the STS token when configured, the
 * timestamp window and single use of the nonce. Codes and statuses follow the POP gateway.
 */
export class Authenticator {
  private readonly nonces = new Map<string, number>();

  constructor(
    /** The key pair to check a request against, found by the access key id it names. */
    private readonly creds: (accessKeyId: string | undefined) => Credentials,
    private readonly toleranceMs: () => number,
  ) {}

  verify(req: SignedRequest, params: Record<string, string>, now: number): AuthResult {
    const authorization = header(req, 'authorization');
    if (authorization !== undefined && authorization.startsWith('ACS3-')) {
      return this.verifyV3(req, authorization, now);
    }
    if (params['Signature'] !== undefined) return this.verifyV2(req, params, now);
    throw new EcsApiError('MissingSignature', 'The request is not signed.', 400);
  }

  private verifyV3(req: SignedRequest, authorization: string, now: number): AuthResult {
    const m = /^ACS3-HMAC-SHA256 Credential=([^,]*),SignedHeaders=([^,]*),Signature=([0-9a-f]+)$/.exec(
      authorization,
    );
    if (!m) {
      throw new EcsApiError(
        'IncompleteSignature',
        'The request signature does not conform to Aliyun standards.',
        400,
      );
    }
    const [, keyId, signedList, signature] = m as unknown as [string, string, string, string];
    const creds = this.creds(keyId);
    if (keyId !== creds.accessKeyId) {
      throw new EcsApiError('InvalidAccessKeyId.NotFound', 'Specified access key is not found.', 404);
    }
    const signedHeaders = signedList.split(';');
    for (const required of [
      'host',
      'x-acs-action',
      'x-acs-date',
      'x-acs-signature-nonce',
      'x-acs-content-sha256',
    ]) {
      if (!signedHeaders.includes(required)) {
        throw new EcsApiError('IncompleteSignature', `The header ${required} must be signed.`, 400);
      }
    }
    const payloadHash = header(req, 'x-acs-content-sha256') ?? '';
    if (payloadHash !== createHash('sha256').update(req.body).digest('hex')) {
      throw new EcsApiError('SignatureDoesNotMatch', 'The payload hash does not match the body.', 400);
    }
    const expected = v3Signature(req, signedHeaders, payloadHash, creds.accessKeySecret);
    if (!safeEqual(expected, signature)) {
      throw new EcsApiError(
        'SignatureDoesNotMatch',
        'Specified signature is not matched with our calculation.',
        400,
      );
    }
    this.checkToken(header(req, 'x-acs-security-token'), creds);
    this.checkTimestamp(header(req, 'x-acs-date'), now);
    this.useNonce(header(req, 'x-acs-signature-nonce'), now);
    return { signing: 'v3' };
  }

  private verifyV2(req: SignedRequest, params: Record<string, string>, now: number): AuthResult {
    const creds = this.creds(params['AccessKeyId']);
    if (params['AccessKeyId'] !== creds.accessKeyId) {
      throw new EcsApiError('InvalidAccessKeyId.NotFound', 'Specified access key is not found.', 404);
    }
    if ((params['SignatureMethod'] ?? 'HMAC-SHA1') !== 'HMAC-SHA1') {
      throw new EcsApiError('InvalidSignatureMethod', 'Specified signature method is not supported.', 400);
    }
    const expected = rpcSignature(req.method, params, creds.accessKeySecret);
    if (!safeEqual(expected, params['Signature'] ?? '')) {
      throw new EcsApiError(
        'SignatureDoesNotMatch',
        'Specified signature is not matched with our calculation.',
        400,
      );
    }
    this.checkToken(params['SecurityToken'], creds);
    this.checkTimestamp(params['Timestamp'], now);
    this.useNonce(params['SignatureNonce'], now);
    return { signing: req.method === 'GET' ? 'v2-get' : 'v2' };
  }

  private checkToken(token: string | undefined, creds: Credentials): void {
    if (creds.securityToken === undefined) return;
    if (token === undefined || token === '') {
      throw new EcsApiError(
        'InvalidSecurityToken.Malformed',
        'The security token you provided is malformed.',
        400,
      );
    }
    if (!safeEqual(token, creds.securityToken)) {
      throw new EcsApiError(
        'InvalidSecurityToken.MismatchWithAccessKey',
        'The security token you provided does not match with the access key.',
        400,
      );
    }
  }

  private checkTimestamp(value: string | undefined, now: number): void {
    if (value === undefined)
      throw new EcsApiError('MissingTimestamp', 'The Timestamp of the request is missing.', 400);
    const t = Date.parse(value);
    if (Number.isNaN(t) || Math.abs(now - t) > this.toleranceMs()) {
      throw new EcsApiError(
        'InvalidTimeStamp.Expired',
        'Specified time stamp or date value is expired.',
        400,
      );
    }
  }

  private useNonce(nonce: string | undefined, now: number): void {
    if (nonce === undefined || nonce === '') {
      throw new EcsApiError('MissingSignatureNonce', 'The SignatureNonce of the request is missing.', 400);
    }
    this.prune(now);
    if (this.nonces.has(nonce)) {
      throw new EcsApiError('SignatureNonceUsed', 'Specified signature nonce was used already.', 400);
    }
    this.nonces.set(nonce, now);
  }

  /** A nonce only needs remembering while its timestamp could still be accepted. */
  private prune(now: number): void {
    const horizon = now - 2 * this.toleranceMs();
    for (const [nonce, at] of this.nonces) {
      if (at >= horizon) break;
      this.nonces.delete(nonce);
    }
  }
}
