import { MnsFault, type StoredMessage, type EmulatedQueue } from './model.js';
import { childText, parseXml, toXml, type XmlElement, type XmlFields } from './xml.js';
import { intIn, invalid, queueOf, type QueueContext, type Reply } from './requests.js';

/** The messages of a queue: send (one or a batch), receive with long polling, delete, change visibility. */

const POLL_STEP_MS = 100;

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

/** Delivers up to n visible messages; messages past the receive limit move to the dead-letter queue. */
function take(ctx: QueueContext, q: EmulatedQueue, n: number, now: number): StoredMessage[] {
  const out: StoredMessage[] = [];
  for (const m of q.visible(now)) {
    if (out.length >= n) break;
    const target = q.dlq?.Enabled ? ctx.queues.get(q.dlq.DeadLetterTargetQueue) : undefined;
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

async function receive(
  ctx: QueueContext,
  name: string,
  n: number,
  waitSeconds: number,
): Promise<StoredMessage[]> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const q = queueOf(ctx, name);
    const got = take(ctx, q, n, Date.now());
    const left = deadline - Date.now();
    if (got.length > 0 || left <= 0 || ctx.closing()) return got;
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

export async function handleMessages(
  ctx: QueueContext,
  method: string,
  name: string,
  query: Map<string, string>,
  body: string,
): Promise<Reply> {
  if (method === 'POST') {
    const q = queueOf(ctx, name);
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
    const q = queueOf(ctx, name);
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
    const got = await receive(ctx, name, n, wait);
    if (got.length === 0) throw new MnsFault('MessageNotExist', 404, 'Message not exist.');
    return batch
      ? { status: 200, xml: toXml('Messages', { Message: got.map((m) => messageView(m, true)) }) }
      : { status: 200, xml: toXml('Message', messageView(got[0] as StoredMessage, true)) };
  }
  if (method === 'DELETE') {
    const q = queueOf(ctx, name);
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
    const q = queueOf(ctx, name);
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
