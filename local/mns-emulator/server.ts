import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MnsFault, type EmulatedQueue } from './model.js';
import type { KeyRing } from '../sts-keys.js';
import { verifyAcsCredential, verifyMnsSignature, type Credentials } from './signature.js';
import { createTopics, type PublishedMessage } from './topics.js';
import { MalformedXmlError, toXml } from './xml.js';
import { handleMessages } from './messages.js';
import { handleOpenApi, handleQueues } from './queue-admin.js';
import { parseQuery, readBody, type QueueContext, type Reply } from './requests.js';

export interface MnsEmulatorOptions {
  /** 0 or absent: a free port on 127.0.0.1. */
  port?: number;
  /** When set, requests must be signed with this key; otherwise any well-formed signature passes. */
  accessKeyId?: string;
  accessKeySecret?: string;
  /** STS-style sets accepted besides the key above (issued and expired while running). */
  keys?: KeyRing;
  accountId?: string;
}

export interface MnsEmulator {
  /** `http://127.0.0.1:<port>`: both the MNS data API (XML) and the queue OpenAPI (JSON, 2022-01-19). */
  endpoint: string;
  accountId: string;
  /** What was published to a topic, oldest first (empty for an unknown topic). */
  topicMessages(topic: string): PublishedMessage[];
  close(): Promise<void>;
}

export async function startMnsEmulator(options: MnsEmulatorOptions = {}): Promise<MnsEmulator> {
  const credentials: Credentials = {
    accessKeyId: options.accessKeyId,
    accessKeySecret: options.accessKeySecret,
  };
  /** The set a request names, when the key ring holds it; else the fixed key. */
  const credentialsFor = (headers: http.IncomingHttpHeaders): Credentials => {
    const auth = String(headers.authorization ?? '');
    const keyId = /^MNS ([^:\s]+):/.exec(auth)?.[1] ?? /Credential=([^,\s/]+)/.exec(auth)?.[1];
    return options.keys?.find(keyId) ?? credentials;
  };
  const accountId = options.accountId ?? '1234567890123456';
  const queues = new Map<string, EmulatedQueue>();
  const topics = createTopics({ queues, endpoint: () => endpoint, accountId });
  let closing = false;
  let endpoint = '';

  const ctx: QueueContext = { queues, endpoint: () => endpoint, closing: () => closing };

  async function dispatch(req: http.IncomingMessage, body: string): Promise<Reply> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const action = req.headers['x-acs-action'];
    if (typeof action === 'string') {
      verifyAcsCredential(req.headers, credentialsFor(req.headers));
      const params = new URLSearchParams(url.split('?')[1] ?? '');
      if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
      }
      return handleOpenApi(ctx, action, params);
    }
    verifyMnsSignature(method, url, req.headers, credentialsFor(req.headers));
    const [path = '/', rawQuery = ''] = url.split(/\?(.*)/s);
    const query = parseQuery(rawQuery);
    const parts = path.split('/').filter((p) => p !== '');
    if (parts[0] === 'topics') return topics.handle(method, parts, body);
    if (parts[0] !== 'queues' || parts.length > 3 || (parts.length === 3 && parts[2] !== 'messages')) {
      throw new MnsFault('InvalidArgument', 404, `No such resource ${path}`);
    }
    if (parts.length === 3) return handleMessages(ctx, method, parts[1] as string, query, body);
    return handleQueues(ctx, method, parts[1], query, req.headers, body);
  }

  const server = http.createServer((req, res) => {
    const requestId = randomBytes(12).toString('hex').toUpperCase();
    const reply = (r: Reply): void => {
      const headers: Record<string, string> = { 'x-mns-request-id': requestId, ...r.headers };
      let payload = '';
      if (r.xml !== undefined) {
        headers['content-type'] = 'text/xml;charset=utf-8';
        payload = r.xml;
      } else if (r.json !== undefined) {
        headers['content-type'] = 'application/json;charset=utf-8';
        payload = JSON.stringify({ RequestId: requestId, ...(r.json as object) });
      }
      res.writeHead(r.status, headers);
      res.end(payload);
    };
    readBody(req)
      .then((body) => dispatch(req, body))
      .then(reply)
      .catch((err: unknown) => {
        const fault =
          err instanceof MnsFault
            ? err
            : err instanceof MalformedXmlError
              ? new MnsFault('MalformedXML', 400, `The XML you provided was not well-formed: ${err.message}`)
              : new MnsFault('InternalError', 500, String(err));
        if (typeof req.headers['x-acs-action'] === 'string') {
          reply({ status: fault.status, json: { Code: fault.code, Message: fault.message, Success: false } });
        } else {
          reply({
            status: fault.status,
            xml: toXml('Error', {
              Code: fault.code,
              Message: fault.message,
              RequestId: requestId,
              HostId: endpoint,
            }),
          });
        }
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    accountId,
    topicMessages: (topic) => topics.messages(topic),
    close: async () => {
      closing = true;
      for (const q of queues.values()) q.wake();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
