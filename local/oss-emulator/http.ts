import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeXml } from '../mns-emulator/xml.js';

export type Xml = { [key: string]: string | number | boolean | Xml | Xml[] | undefined };

function xmlFields(obj: Xml): string {
  let out = '';
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) out += `<${key}>${xmlFields(item)}</${key}>`;
    else if (typeof value === 'object') out += `<${key}>${xmlFields(value)}</${key}>`;
    else out += `<${key}>${escapeXml(String(value))}</${key}>`;
  }
  return out;
}

export const toXml = (root: string, obj: Xml) =>
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
