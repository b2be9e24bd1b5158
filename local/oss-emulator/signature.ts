import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { OssFault } from './model.js';

export interface OssKey {
  accessKeyId: string;
  accessKeySecret: string;
}

/**
 * The query parameters OSS signs as sub-resources (OSS API reference, "Include signatures in the
 * Authorization header"); every other parameter (prefix, marker, max-keys...) is left out.
 */
const SUB_RESOURCES = new Set([
  'acl',
  'uploads',
  'location',
  'cors',
  'logging',
  'website',
  'referer',
  'lifecycle',
  'delete',
  'append',
  'tagging',
  'objectMeta',
  'uploadId',
  'partNumber',
  'security-token',
  'position',
  'symlink',
  'restore',
  'x-oss-process',
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
]);

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

/** `/bucket/key?sub&sub=value`, the sub-resources sorted, values as sent (decoded). */
export function canonicalResource(resource: string, query: URLSearchParams): string {
  const subs = [...query.keys()].filter((k) => SUB_RESOURCES.has(k)).sort();
  if (subs.length === 0) return resource;
  return `${resource}?${subs.map((k) => (query.get(k) ? `${k}=${query.get(k)}` : k)).join('&')}`;
}

function stringToSign(
  method: string,
  headers: IncomingHttpHeaders,
  dateOrExpires: string,
  resource: string,
): string {
  const ossHeaders = Object.keys(headers)
    .filter((k) => k.startsWith('x-oss-'))
    .sort()
    .map((k) => `${k}:${header(headers, k).trim()}`);
  return [
    method,
    header(headers, 'content-md5'),
    header(headers, 'content-type'),
    dateOrExpires,
    ...ossHeaders,
    resource,
  ].join('\n');
}

function sameSignature(secret: string, text: string, given: string): boolean {
  const expected = createHmac('sha1', secret).update(Buffer.from(text, 'utf8')).digest();
  const got = Buffer.from(given, 'base64');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/**
 * OSS signature version 1: `Authorization: OSS <id>:<base64 HMAC-SHA1>` or, for a signed URL,
 * `OSSAccessKeyId`, `Expires` (epoch seconds) and `Signature` in the query. The Date header is not
 * checked against the clock (a loose emulator); a signed URL's expiry is.
 */
export function verifyOssRequest(
  method: string,
  resource: string,
  query: URLSearchParams,
  headers: IncomingHttpHeaders,
  keys: OssKey | ((accessKeyId: string) => OssKey | undefined),
  nowMs: number,
): void {
  const keyOf = (id: string): OssKey => {
    const found = typeof keys === 'function' ? keys(id) : keys.accessKeyId === id ? keys : undefined;
    if (!found) throw new OssFault('InvalidAccessKeyId', 403, `The OSS Access Key Id ${id} does not exist.`);
    return found;
  };
  const canonical = canonicalResource(resource, query);
  const auth = /^OSS ([^:\s]+):(\S+)$/.exec(header(headers, 'authorization'));
  if (auth) {
    const [, keyId, signature] = auth as unknown as [string, string, string];
    const key = keyOf(keyId);
    const date = header(headers, 'x-oss-date') || header(headers, 'date');
    if (!sameSignature(key.accessKeySecret, stringToSign(method, headers, date, canonical), signature)) {
      throw new OssFault(
        'SignatureDoesNotMatch',
        403,
        'The request signature we calculated does not match the signature you provided.',
      );
    }
    return;
  }
  const keyId = query.get('OSSAccessKeyId');
  const expires = query.get('Expires');
  const signature = query.get('Signature');
  if (!keyId || !expires || !signature)
    throw new OssFault('AccessDenied', 403, 'You have no right to access this object.');
  const key = keyOf(keyId);
  if (!/^\d+$/.test(expires) || Number(expires) * 1000 < nowMs) {
    throw new OssFault('AccessDenied', 403, 'Request has expired.');
  }
  if (!sameSignature(key.accessKeySecret, stringToSign(method, headers, expires, canonical), signature)) {
    throw new OssFault(
      'SignatureDoesNotMatch',
      403,
      'The request signature we calculated does not match the signature you provided.',
    );
  }
}
