import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { MnsFault } from './model.js';

export interface Credentials {
  accessKeyId?: string;
  accessKeySecret?: string;
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

/**
 * MNS request signature: base64(HMAC-SHA1(secret, VERB\nContent-MD5\nContent-Type\nDate\n
 * CanonicalizedMNSHeaders + CanonicalizedResource)). Loose: the Date is not checked against
 * the clock, and without a configured key any well-formed header passes.
 */
export function verifyMnsSignature(
  method: string,
  resource: string,
  headers: IncomingHttpHeaders,
  credentials: Credentials,
): void {
  const match = /^MNS ([^:\s]+):(\S+)$/.exec(header(headers, 'authorization'));
  if (match === null)
    throw new MnsFault('AccessDenied', 403, 'The Authorization header is missing or malformed.');
  const [, keyId, signature] = match as unknown as [string, string, string];
  if (credentials.accessKeyId === undefined) return;
  if (keyId !== credentials.accessKeyId) {
    throw new MnsFault('InvalidAccessKeyId', 403, `The access key id ${keyId} does not exist.`);
  }
  const canonicalHeaders = Object.keys(headers)
    .filter((k) => k.startsWith('x-mns-'))
    .sort()
    .map((k) => `${k}:${header(headers, k)}\n`)
    .join('');
  const toSign = [
    method,
    header(headers, 'content-md5'),
    header(headers, 'content-type'),
    header(headers, 'date'),
  ]
    .join('\n')
    .concat('\n', canonicalHeaders, resource);
  const expected = createHmac('sha1', credentials.accessKeySecret ?? '')
    .update(toSign, 'utf8')
    .digest();
  const given = Buffer.from(signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new MnsFault('SignatureDoesNotMatch', 403, 'The request signature does not match.');
  }
}

/** OpenAPI (ACS3) requests: only the access key id in the Credential is checked. */
export function verifyAcsCredential(headers: IncomingHttpHeaders, credentials: Credentials): void {
  const keyId = /Credential=([^,\s]+)/.exec(header(headers, 'authorization'))?.[1];
  if (keyId === undefined)
    throw new MnsFault('MissingAuthorization', 401, 'The Authorization header is missing.');
  if (credentials.accessKeyId !== undefined && keyId !== credentials.accessKeyId) {
    throw new MnsFault('InvalidAccessKeyId.NotFound', 404, `Specified access key is not found: ${keyId}`);
  }
}
