import type http from 'node:http';
import { MnsFault, type EmulatedQueue } from './model.js';

/** What every MNS request handler shares: argument checks, query and body reading, the reply. */

const MAX_REQUEST_BYTES = 1 << 20;

export function invalid(message: string): MnsFault {
  return new MnsFault('InvalidArgument', 400, message);
}

export function intIn(
  raw: string | undefined,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max}, got ${raw}`);
  }
  return value;
}

export function parseQuery(raw: string): Map<string, string> {
  // Case-insensitive keys: the SDK writes `ReceiptHandle` for delete, `receiptHandle` elsewhere.
  const out = new Map<string, string>();
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    let decoded = value;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      // a raw handle with a stray '%': keep it as sent
    }
    out.set(key.toLowerCase(), decoded);
  }
  return out;
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) reject(new MnsFault('InvalidArgument', 413, 'Request body too large.'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface Reply {
  status: number;
  xml?: string;
  json?: unknown;
  headers?: Record<string, string>;
}

/** The queues of one emulator, and what the handlers need of the server around them. */
export interface QueueContext {
  queues: Map<string, EmulatedQueue>;
  endpoint(): string;
  closing(): boolean;
}

export function queueOf(ctx: QueueContext, name: string): EmulatedQueue {
  const q = ctx.queues.get(name);
  if (q === undefined) throw new MnsFault('QueueNotExist', 404, `The queue ${name} does not exist.`);
  return q;
}
