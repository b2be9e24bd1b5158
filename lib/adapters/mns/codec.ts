import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { MAX_BODY_BYTES, QueueError } from '../../ports/queue.js';

/**
 * Message bodies travel base64-encoded: `@alicloud/mns` writes `MessageBody` into its XML
 * without escaping, so `<`, `&` or `]]>` in a body would break the request. Base64 grows a body
 * by a third, which would cap bodies at 48 KB under MNS's 64 KB limit; a body whose base64 does
 * not fit is sent deflated instead, marked with a prefix that cannot start plain base64.
 */
const DEFLATED = 'z:';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function encodeMnsBody(body: string, limit: number = MAX_BODY_BYTES): string {
  const bytes = Buffer.from(body, 'utf8');
  const plain = bytes.toString('base64');
  if (plain.length <= limit) return plain;
  const deflated = DEFLATED + deflateRawSync(bytes, { level: 9 }).toString('base64');
  if (deflated.length <= limit) return deflated;
  throw new QueueError(
    `message body of ${bytes.length} bytes does not fit MNS's ${limit}-byte limit once base64-encoded, ` +
      `even deflated (${deflated.length} bytes); bodies under ${Math.floor(limit / 4) * 3} bytes always fit`,
  );
}

/** Reverses encodeMnsBody. A body that is not ours (not base64) is returned as it came. */
export function decodeMnsBody(text: string): string {
  if (text.startsWith(DEFLATED)) {
    return inflateRawSync(Buffer.from(text.slice(DEFLATED.length), 'base64')).toString('utf8');
  }
  if (text.length % 4 !== 0 || !BASE64.test(text)) return text;
  return Buffer.from(text, 'base64').toString('utf8');
}
