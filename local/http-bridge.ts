import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FcContext, FcHandler, FcHttpEvent, FcHttpResponse } from '../lib/runtime/fc.js';

/** Largest request body the bridge forwards, like API Gateway's limit; the handler enforces the API's own. */
const MAX_FORWARDED_BYTES = 8 * 1024 * 1024;

/**
 * Plays Function Compute's HTTP trigger on loopback: each request becomes an FC 3.0 HTTP event
 * (a Buffer of JSON) for the handler, and the handler's answer becomes the HTTP response.
 */
export async function startHttpBridge(options: {
  handler: FcHandler<FcHttpResponse>;
  port?: number;
  host?: string;
  functionName?: string;
  /** Answers what is not the API (the local object store's signed URLs); false passes the request on. */
  serveOther?: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;
}): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (options.serveOther && req.url?.startsWith('/objects/')) {
      options.serveOther(req, res).then(
        (served) => {
          if (!served && !res.headersSent) res.writeHead(404).end();
        },
        () => {
          if (!res.headersSent) res.writeHead(500).end();
        },
      );
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_FORWARDED_BYTES) {
        aborted = true;
        res.writeHead(413, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'about:blank', title: 'Payload Too Large', status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (aborted) return;
      void forward(req, Buffer.concat(chunks), res, options);
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function toFcHttpEvent(req: http.IncomingMessage, body: Buffer, requestId: string): FcHttpEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  const queryParameters: Record<string, string> = {};
  // As FC does: a repeated parameter arrives once, its values joined with commas (none is dropped).
  for (const [k, v] of url.searchParams) {
    queryParameters[k] = Object.hasOwn(queryParameters, k) ? `${queryParameters[k]},${v}` : v;
  }
  const isText = body.length === 0 || /json|text|xml|urlencoded/i.test(headers['content-type'] ?? '');
  return {
    version: 'v1',
    rawPath: url.pathname,
    headers,
    queryParameters,
    body: isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !isText,
    requestContext: {
      requestId,
      time: new Date().toISOString(),
      timeEpoch: String(Date.now()),
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
    },
  };
}

async function forward(
  req: http.IncomingMessage,
  body: Buffer,
  res: http.ServerResponse,
  options: { handler: FcHandler<FcHttpResponse>; functionName?: string },
): Promise<void> {
  const requestId = randomUUID();
  const event = toFcHttpEvent(req, body, requestId);
  const context: FcContext = { requestId, function: { name: options.functionName ?? 'api' } };
  try {
    const answer = await options.handler(Buffer.from(JSON.stringify(event)), context);
    const payload = answer.body
      ? Buffer.from(answer.body, answer.isBase64Encoded ? 'base64' : 'utf8')
      : Buffer.alloc(0);
    res.writeHead(answer.statusCode, { ...(answer.headers ?? {}), 'x-fc-request-id': requestId });
    res.end(payload);
  } catch (err) {
    // FC answers an unhandled function error with 502; the details stay in the log.
    console.error(`[http-bridge] ${requestId} handler failed:`, err);
    res.writeHead(502, { 'content-type': 'application/problem+json', 'x-fc-request-id': requestId });
    res.end(
      JSON.stringify({ type: 'about:blank', title: 'Bad Gateway', status: 502, detail: 'function error' }),
    );
  }
}
