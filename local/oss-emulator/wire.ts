import type { IncomingMessage, ServerResponse } from 'node:http';
import { xmlFields, type XmlFields } from '../mns-emulator/xml.js';
import type { Bucket } from './model.js';
import type { UploadHolds } from '../runtime/upload-holds.js';

/** What every request handler of the emulator reaches: the one bucket and the test's upload holds. */
export interface OssEndpoint {
  bucket: Bucket;
  holds: UploadHolds;
}

/** Serves one request on the object `objectKey`. */
export type ObjectHandler = (
  endpoint: OssEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  objectKey: string,
  query: URLSearchParams,
) => Promise<void>;

/** OSS answers without the namespace MNS puts on its root element. */
export const toXml = (root: string, obj: XmlFields) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root}>${xmlFields(obj)}</${root}>`;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function sendXml(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
