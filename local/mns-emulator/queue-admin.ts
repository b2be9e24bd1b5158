import type http from 'node:http';
import {
  ATTRIBUTE_RANGES,
  DEFAULT_ATTRIBUTES,
  EmulatedQueue,
  MnsFault,
  type DlqPolicy,
  type QueueAttributes,
} from './model.js';
import { childText, parseXml, toXml, type XmlFields } from './xml.js';
import { intIn, invalid, queueOf, type QueueContext, type Reply } from './requests.js';

/** Queues themselves: create, change, describe, list, delete, over the XML API and the queue OpenAPI. */

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,119}$/;

function attributesFrom(read: (name: string) => string | undefined, base: QueueAttributes): QueueAttributes {
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

function dlqFrom(ctx: QueueContext, raw: string | undefined, queueName: string): DlqPolicy | undefined {
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
  queueOf(ctx, target);
  if (maxReceiveCount === 0) throw invalid('MaxReceiveCount is required');
  return { Enabled: true, DeadLetterTargetQueue: target, MaxReceiveCount: maxReceiveCount };
}

function createQueue(
  ctx: QueueContext,
  name: string,
  attributes: QueueAttributes,
  dlq: DlqPolicy | undefined,
): Reply {
  if (!QUEUE_NAME.test(name)) throw invalid(`Invalid queue name ${name}`);
  const existing = ctx.queues.get(name);
  if (existing !== undefined) {
    if (JSON.stringify(existing.attributes) === JSON.stringify(attributes)) return { status: 204 };
    throw new MnsFault('QueueAlreadyExist', 409, `The queue ${name} already exists with other attributes.`);
  }
  const q = new EmulatedQueue(name, attributes, Date.now());
  q.dlq = dlq;
  ctx.queues.set(name, q);
  return { status: 201, headers: { Location: `${ctx.endpoint()}/queues/${name}` } };
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

export async function handleQueues(
  ctx: QueueContext,
  method: string,
  name: string | undefined,
  query: Map<string, string>,
  headers: http.IncomingHttpHeaders,
  body: string,
): Promise<Reply> {
  if (name === undefined) {
    if (method !== 'GET') throw new MnsFault('MethodNotAllowed', 405, `${method} /queues`);
    const prefix = String(headers['x-mns-prefix'] ?? '');
    const limit = intIn(headers['x-mns-ret-number'] as string | undefined, 'x-mns-ret-number', 1, 1000, 1000);
    const marker = String(headers['x-mns-marker'] ?? '');
    const names = [...ctx.queues.keys()].filter((n) => n.startsWith(prefix) && n > marker).sort();
    const page = names.slice(0, limit);
    return {
      status: 200,
      xml: toXml('Queues', {
        Queue: page.map((n) => ({ QueueURL: `${ctx.endpoint()}/queues/${n}` })),
        ...(names.length > limit ? { NextMarker: page[page.length - 1] } : {}),
      }),
    };
  }
  if (method === 'PUT') {
    const root = body.trim() === '' ? undefined : parseXml(body);
    const read = (key: string): string | undefined => (root ? childText(root, key) : undefined);
    if (query.get('metaoverride') === 'true') {
      const q = queueOf(ctx, name);
      q.attributes = attributesFrom(read, q.attributes);
      q.lastModifyTime = Date.now();
      return { status: 204 };
    }
    return createQueue(ctx, name, attributesFrom(read, DEFAULT_ATTRIBUTES), undefined);
  }
  if (method === 'GET') return { status: 200, xml: toXml('Queue', queueAttributesXml(queueOf(ctx, name))) };
  if (method === 'DELETE') {
    ctx.queues.get(name)?.wake();
    ctx.queues.delete(name);
    return { status: 204 };
  }
  throw new MnsFault('MethodNotAllowed', 405, `${method} /queues/${name}`);
}

/** The queue part of the MNS OpenAPI (2022-01-19): where the dead-letter policy is set. */
export function handleOpenApi(ctx: QueueContext, action: string, params: URLSearchParams): Reply {
  const name = params.get('QueueName') ?? '';
  const read = (key: string): string | undefined => params.get(key) ?? undefined;
  let data: unknown = undefined;
  if (action === 'CreateQueue') {
    createQueue(ctx, name, attributesFrom(read, DEFAULT_ATTRIBUTES), dlqFrom(ctx, read('DlqPolicy'), name));
    data = name;
  } else if (action === 'SetQueueAttributes') {
    const q = queueOf(ctx, name);
    const attributes = attributesFrom(read, q.attributes);
    const dlq = read('DlqPolicy') === undefined ? q.dlq : dlqFrom(ctx, read('DlqPolicy'), name);
    q.attributes = attributes;
    q.dlq = dlq;
    q.lastModifyTime = Date.now();
  } else if (action === 'GetQueueAttributes') {
    const q = queueOf(ctx, name);
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
    ctx.queues.get(name)?.wake();
    ctx.queues.delete(name);
  } else {
    throw new MnsFault('InvalidAction.NotFound', 404, `Action ${action} is not emulated.`);
  }
  return {
    status: 200,
    json: { Code: 200, Status: 'Success', Message: 'operation success', Success: true, Data: data },
  };
}
