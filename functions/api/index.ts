import type { FcContext, FcHttpResponse } from '../../lib/runtime/fc.js';

/** Placeholder until the API routes land: answers /healthz only. */
export async function handler(event: Buffer, _context: FcContext): Promise<FcHttpResponse> {
  const request = JSON.parse(event.toString('utf8')) as { rawPath?: string };
  if (request.rawPath === '/healthz') {
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ok"}' };
  }
  return { statusCode: 404, headers: { 'content-type': 'application/problem+json' }, body: '{"status":404}' };
}
