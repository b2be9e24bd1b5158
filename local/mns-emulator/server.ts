import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ATTRIBUTE_RANGES,
  DEFAULT_ATTRIBUTES,
  EmulatedQueue,
  MnsFault,
  type DlqPolicy,
  type QueueAttributes,
  type StoredMessage,
} from './model.js';
import type { KeyRing } from '../sts-keys.js';
import { verifyAcsCredential, verifyMnsSignature, type Credentials } from './signature.js';
import { createTopics, type PublishedMessage } from './topics.js';
import { childText, MalformedXmlError, parseXml, toXml, type XmlElement, type XmlFields } from './xml.js';

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

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,119}$/;
const MAX_REQUEST_BYTES = 1 << 20;
const POLL_STEP_MS = 100;

function invalid(message: string): MnsFault {
  return new MnsFault('InvalidArgument', 400, message);
}

function intIn(raw: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max}, got ${raw}`);
  }
  return value;
}

function parseQuery(raw: string): Map<string, string> {
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

function readBody(req: http.IncomingMessage): Promise<string> {
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

function messageView(m: StoredMessage, withReceipt: boolean): XmlFields {
  return {
    MessageId: m.id,
    ...(withReceipt ? { ReceiptHandle: m.receipt } : {}),
    MessageBodyMD5: m.md5,
    MessageBody: m.body,
    EnqueueTime: m.enqueueTime,
    FirstDequeueTime: m.firstDequeueTime ?? m.enqueueTime,
    ...(withReceipt ? { NextVisibleTime: m.nextVisibleTime } : {}),
    DequeueCount: m.dequeueCount,
    Priority: m.priority,
  };
}

interface Reply {
  status: number;
  xml?: string;
  json?: unknown;
  headers?: Record<string, string>;
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

  const queueOf = (name: string): EmulatedQueue => {
    const q = queues.get(name);
    if (q === undefined) throw new MnsFault('QueueNotExist', 404, `The queue ${name} does not exist.`);
    return q;
  };

  function attributesFrom(
    read: (name: string) => string | undefined,
    base: QueueAttributes,
  ): QueueAttributes {
    const next = { ...base };
    for (const [key, [min, max]] of Object.entries(ATTRIBUTE_RANGES) as [
      keyof typeof ATTRIBUTE_RANGES,
      [number, number],
    ][]) {
      next[key] = intIn(read(key), key, min, max, base[key]);
    }
    const logging = read('LoggingEnabled') ?? read('EnableLogging');
    if (logging !== undefined && logging !== '') next.LoggingEnabled = logging.toLowerCase() === 'true';
    return next;
  }

  function dlqFrom(raw: string | undefined, queueName: string): DlqPolicy | undefined {
    if (raw === undefined || raw === '') return undefined;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      throw invalid('DlqPolicy must be a JSON object');
    }
    const enabled = parsed.Enabled === true || parsed.Enabled === 'true';
    const target = String(parsed.DeadLetterTargetQueue ?? '');
    const maxReceiveCount = intIn(String(parsed.MaxReceiveCount ?? ''), 'MaxReceiveCount', 1, 1000, 0);
    if (!enabled) return undefined;
    if (target === queueName) throw invalid('A queue cannot be its own dead-letter queue.');
    queueOf(target);
    if (maxReceiveCount === 0) throw invalid('MaxReceiveCount is required');
    return { Enabled: true, DeadLetterTargetQueue: target, MaxReceiveCount: maxReceiveCount };
  }

  function createQueue(name: string, attributes: QueueAttributes, dlq: DlqPolicy | undefined): Reply {
    if (!QUEUE_NAME.test(name)) throw invalid(`Invalid queue name ${name}`);
    const existing = queues.get(name);
    if (existing !== undefined) {
      if (JSON.stringify(existing.attributes) === JSON.stringify(attributes)) return { status: 204 };
      throw new MnsFault('QueueAlreadyExist', 409, `The queue ${name} already exists with other attributes.`);
    }
    const q = new EmulatedQueue(name, attributes, Date.now());
    q.dlq = dlq;
    queues.set(name, q);
    return { status: 201, headers: { Location: `${endpoint}/queues/${name}` } };
  }

  /** Delivers up to n visible messages; messages past the receive limit move to the dead-letter queue. */
  function take(q: EmulatedQueue, n: number, now: number): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const m of q.visible(now)) {
      if (out.length >= n) break;
      const target = q.dlq?.Enabled ? queues.get(q.dlq.DeadLetterTargetQueue) : undefined;
      if (target !== undefined && q.dlq !== undefined && m.dequeueCount >= q.dlq.MaxReceiveCount) {
        q.messages.delete(m.seq);
        const moved = target.add(m.body, 0, m.priority, now, m.id);
        // Retention keeps counting from the original send.
        moved.enqueueTime = m.enqueueTime;
        continue;
      }
      m.dequeueCount += 1;
      m.firstDequeueTime ??= now;
      q.issueReceipt(m, now + q.attributes.VisibilityTimeout * 1000);
      out.push(m);
    }
    return out;
  }

  async function receive(name: string, n: number, waitSeconds: number): Promise<StoredMessage[]> {
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      const q = queueOf(name);
      const got = take(q, n, Date.now());
      const left = deadline - Date.now();
      if (got.length > 0 || left <= 0 || closing) return got;
      await q.waitForMessage(Math.min(left, POLL_STEP_MS));
    }
  }

  interface Outgoing {
    body: string;
    delay: number;
    priority: number;
  }

  /** Validates one <Message> of a send; nothing is stored until every message of a batch passed. */
  function parseSend(q: EmulatedQueue, element: XmlElement): Outgoing {
    const body = childText(element, 'MessageBody');
    if (body === undefined || body === '') throw invalid('MessageBody is required and must not be empty');
    const bytes = Buffer.byteLength(body, 'utf8');
    if (bytes > q.attributes.MaximumMessageSize) {
      throw invalid(
        `The message body is ${bytes} bytes, more than MaximumMessageSize ${q.attributes.MaximumMessageSize}`,
      );
    }
    return {
      body,
      delay: intIn(childText(element, 'DelaySeconds'), 'DelaySeconds', 0, 604_800, q.attributes.DelaySeconds),
      priority: intIn(childText(element, 'Priority'), 'Priority', 1, 16, 8),
    };
  }

  async function handleMessages(
    method: string,
    name: string,
    query: Map<string, string>,
    body: string,
  ): Promise<Reply> {
    if (method === 'POST') {
      const q = queueOf(name);
      const root = parseXml(body);
      if (root.name === 'Message') {
        const { body: text, delay, priority } = parseSend(q, root);
        const m = q.add(text, delay, priority, Date.now());
        return { status: 201, xml: toXml('Message', { MessageId: m.id, MessageBodyMD5: m.md5 }) };
      }
      if (root.name !== 'Messages') throw new MnsFault('MalformedXML', 400, `Unexpected <${root.name}>`);
      const items = root.children.filter((c) => c.name === 'Message');
      if (items.length === 0 || items.length > 16) throw invalid('A batch holds 1 to 16 messages');
      const sent = items
        .map((item) => parseSend(q, item))
        .map((o) => q.add(o.body, o.delay, o.priority, Date.now()));
      return {
        status: 201,
        xml: toXml('Messages', { Message: sent.map((m) => ({ MessageId: m.id, MessageBodyMD5: m.md5 })) }),
      };
    }
    if (method === 'GET') {
      const q = queueOf(name);
      const batch = query.has('numofmessages');
      const n = intIn(query.get('numofmessages'), 'numOfMessages', 1, 16, 1);
      if (query.get('peekonly') === 'true') {
        const peeked = q.visible(Date.now()).slice(0, n);
        if (peeked.length === 0) throw new MnsFault('MessageNotExist', 404, 'Message not exist.');
        return batch
          ? { status: 200, xml: toXml('Messages', { Message: peeked.map((m) => messageView(m, false)) }) }
          : { status: 200, xml: toXml('Message', messageView(peeked[0] as StoredMessage, false)) };
      }
      const wait = intIn(query.get('waitseconds'), 'waitseconds', 0, 30, q.attributes.PollingWaitSeconds);
      const got = await receive(name, n, wait);
      if (got.length === 0) throw new MnsFault('MessageNotExist', 404, 'Message not exist.');
      return batch
        ? { status: 200, xml: toXml('Messages', { Message: got.map((m) => messageView(m, true)) }) }
        : { status: 200, xml: toXml('Message', messageView(got[0] as StoredMessage, true)) };
    }
    if (method === 'DELETE') {
      const q = queueOf(name);
      const handle = query.get('receipthandle');
      if (handle !== undefined) {
        q.messages.delete(q.byReceipt(handle, Date.now()).seq);
        return { status: 204 };
      }
      const handles = parseXml(body).children.filter((c) => c.name === 'ReceiptHandle');
      if (handles.length === 0 || handles.length > 16) throw invalid('A batch holds 1 to 16 receipt handles');
      const errors: XmlFields[] = [];
      for (const h of handles) {
        try {
          q.messages.delete(q.byReceipt(h.text, Date.now()).seq);
        } catch (err) {
          if (!(err instanceof MnsFault)) throw err;
          errors.push({ ErrorCode: err.code, ErrorMessage: err.message, ReceiptHandle: h.text });
        }
      }
      return errors.length === 0 ? { status: 204 } : { status: 404, xml: toXml('Errors', { Error: errors }) };
    }
    if (method === 'PUT') {
      const q = queueOf(name);
      const handle = query.get('receipthandle') ?? '';
      const timeout = intIn(query.get('visibilitytimeout'), 'visibilityTimeout', 1, 43_200, -1);
      if (timeout === -1) throw invalid('visibilityTimeout is required');
      const now = Date.now();
      const m = q.byReceipt(handle, now);
      const receipt = q.issueReceipt(m, now + timeout * 1000);
      return {
        status: 200,
        xml: toXml('ChangeVisibility', { ReceiptHandle: receipt, NextVisibleTime: m.nextVisibleTime }),
      };
    }
    throw new MnsFault('MethodNotAllowed', 405, `${method} is not supported here.`);
  }

  function queueAttributesXml(q: EmulatedQueue): XmlFields {
    const counts = q.counts(Date.now());
    return {
      QueueName: q.name,
      CreateTime: Math.floor(q.createTime / 1000),
      LastModifyTime: Math.floor(q.lastModifyTime / 1000),
      ...q.attributes,
      LoggingEnabled: q.attributes.LoggingEnabled ? 'True' : 'False',
      ActiveMessages: counts.active,
      InactiveMessages: counts.inactive,
      DelayMessages: counts.delayed,
      ...(q.dlq !== undefined ? { DlqPolicy: { ...q.dlq } } : {}),
    };
  }

  async function handleQueues(
    method: string,
    name: string | undefined,
    query: Map<string, string>,
    headers: http.IncomingHttpHeaders,
    body: string,
  ): Promise<Reply> {
    if (name === undefined) {
      if (method !== 'GET') throw new MnsFault('MethodNotAllowed', 405, `${method} /queues`);
      const prefix = String(headers['x-mns-prefix'] ?? '');
      const limit = intIn(
        headers['x-mns-ret-number'] as string | undefined,
        'x-mns-ret-number',
        1,
        1000,
        1000,
      );
      const marker = String(headers['x-mns-marker'] ?? '');
      const names = [...queues.keys()].filter((n) => n.startsWith(prefix) && n > marker).sort();
      const page = names.slice(0, limit);
      return {
        status: 200,
        xml: toXml('Queues', {
          Queue: page.map((n) => ({ QueueURL: `${endpoint}/queues/${n}` })),
          ...(names.length > limit ? { NextMarker: page[page.length - 1] } : {}),
        }),
      };
    }
    if (method === 'PUT') {
      const root = body.trim() === '' ? undefined : parseXml(body);
      const read = (key: string): string | undefined => (root ? childText(root, key) : undefined);
      if (query.get('metaoverride') === 'true') {
        const q = queueOf(name);
        q.attributes = attributesFrom(read, q.attributes);
        q.lastModifyTime = Date.now();
        return { status: 204 };
      }
      return createQueue(name, attributesFrom(read, DEFAULT_ATTRIBUTES), undefined);
    }
    if (method === 'GET') return { status: 200, xml: toXml('Queue', queueAttributesXml(queueOf(name))) };
    if (method === 'DELETE') {
      queues.get(name)?.wake();
      queues.delete(name);
      return { status: 204 };
    }
    throw new MnsFault('MethodNotAllowed', 405, `${method} /queues/${name}`);
  }

  /** The queue part of the MNS OpenAPI (2022-01-19): where the dead-letter policy is set. */
  function handleOpenApi(action: string, params: URLSearchParams): Reply {
    const name = params.get('QueueName') ?? '';
    const read = (key: string): string | undefined => params.get(key) ?? undefined;
    let data: unknown = undefined;
    if (action === 'CreateQueue') {
      createQueue(name, attributesFrom(read, DEFAULT_ATTRIBUTES), dlqFrom(read('DlqPolicy'), name));
      data = name;
    } else if (action === 'SetQueueAttributes') {
      const q = queueOf(name);
      const attributes = attributesFrom(read, q.attributes);
      const dlq = read('DlqPolicy') === undefined ? q.dlq : dlqFrom(read('DlqPolicy'), name);
      q.attributes = attributes;
      q.dlq = dlq;
      q.lastModifyTime = Date.now();
    } else if (action === 'GetQueueAttributes') {
      const q = queueOf(name);
      const counts = q.counts(Date.now());
      data = {
        QueueName: q.name,
        ...q.attributes,
        CreateTime: Math.floor(q.createTime / 1000),
        LastModifyTime: Math.floor(q.lastModifyTime / 1000),
        ActiveMessages: counts.active,
        InactiveMessages: counts.inactive,
        DelayMessages: counts.delayed,
        DlqPolicy: q.dlq
          ? { ...q.dlq, MaxReceiveCount: String(q.dlq.MaxReceiveCount) }
          : { Enabled: false, DeadLetterTargetQueue: '', MaxReceiveCount: '' },
      };
    } else if (action === 'DeleteQueue') {
      queues.get(name)?.wake();
      queues.delete(name);
    } else {
      throw new MnsFault('InvalidAction.NotFound', 404, `Action ${action} is not emulated.`);
    }
    return {
      status: 200,
      json: { Code: 200, Status: 'Success', Message: 'operation success', Success: true, Data: data },
    };
  }

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
      return handleOpenApi(action, params);
    }
    verifyMnsSignature(method, url, req.headers, credentialsFor(req.headers));
    const [path = '/', rawQuery = ''] = url.split(/\?(.*)/s);
    const query = parseQuery(rawQuery);
    const parts = path.split('/').filter((p) => p !== '');
    if (parts[0] === 'topics') return topics.handle(method, parts, body);
    if (parts[0] !== 'queues' || parts.length > 3 || (parts.length === 3 && parts[2] !== 'messages')) {
      throw new MnsFault('InvalidArgument', 404, `No such resource ${path}`);
    }
    if (parts.length === 3) return handleMessages(method, parts[1] as string, query, body);
    return handleQueues(method, parts[1], query, req.headers, body);
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
