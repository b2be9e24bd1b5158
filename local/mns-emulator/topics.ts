import { createHash, randomBytes } from 'node:crypto';
import { MnsFault, type EmulatedQueue } from './model.js';
import { childText, parseXml, toXml } from './xml.js';

/**
 * MNS topics as the data API serves them (XML, signed like the queue requests, which the server
 * checks before routing here): CreateTopic, GetTopicAttributes, PublishMessage, and subscriptions
 * of a queue (`acs:mns:<region>:<account>:queues/<name>`). A message published to a topic is
 * pushed to every subscribed queue (SIMPLIFIED: the body as published; JSON: the MNS envelope), and
 * kept in the topic's log, which tests read through the emulator handle.
 */

export interface TopicReply {
  status: number;
  xml?: string;
  headers?: Record<string, string>;
}

export interface PublishedMessage {
  messageId: string;
  body: string;
  tag: string | undefined;
  publishTime: number;
}

interface TopicSubscription {
  name: string;
  endpoint: string;
  queue: string;
  format: 'SIMPLIFIED' | 'JSON';
}

interface Topic {
  name: string;
  createTime: number;
  messages: PublishedMessage[];
  subscriptions: Map<string, TopicSubscription>;
}

const TOPIC_NAME = /^[A-Za-z][A-Za-z0-9-]{0,254}$/;
const QUEUE_ENDPOINT = /^acs:mns:[a-z0-9-]+:\d+:queues\/([A-Za-z0-9][A-Za-z0-9-]{0,119})$/;
const MAX_BODY_BYTES = 65_536;

export interface Topics {
  handle(method: string, parts: string[], body: string): TopicReply;
  messages(topic: string): PublishedMessage[];
}

export function createTopics(options: {
  queues: Map<string, EmulatedQueue>;
  endpoint: () => string;
  accountId: string;
}): Topics {
  const topics = new Map<string, Topic>();
  const topicOf = (name: string): Topic => {
    const t = topics.get(name);
    if (t === undefined) throw new MnsFault('TopicNotExist', 404, `The topic ${name} does not exist.`);
    return t;
  };

  function createTopic(name: string): TopicReply {
    if (!TOPIC_NAME.test(name)) throw new MnsFault('InvalidArgument', 400, `Invalid topic name ${name}`);
    if (topics.has(name)) return { status: 204 };
    topics.set(name, { name, createTime: Date.now(), messages: [], subscriptions: new Map() });
    return { status: 201, headers: { Location: `${options.endpoint()}/topics/${name}` } };
  }

  function publish(topic: Topic, body: string): TopicReply {
    const root = parseXml(body);
    if (root.name !== 'Message') throw new MnsFault('MalformedXML', 400, `Unexpected <${root.name}>`);
    const text = childText(root, 'MessageBody') ?? '';
    if (text === '') throw new MnsFault('InvalidArgument', 400, 'MessageBody is required.');
    if (Buffer.byteLength(text) > MAX_BODY_BYTES)
      throw new MnsFault('InvalidArgument', 400, `The message body is over ${MAX_BODY_BYTES} bytes.`);
    const message: PublishedMessage = {
      messageId: randomBytes(16).toString('hex').toUpperCase(),
      body: text,
      tag: childText(root, 'MessageTag'),
      publishTime: Date.now(),
    };
    topic.messages.push(message);
    const md5 = createHash('md5').update(text).digest('hex').toUpperCase();
    for (const sub of topic.subscriptions.values()) {
      const queue = options.queues.get(sub.queue);
      // A subscription whose queue is gone drops the message, as MNS does after its retries.
      if (queue === undefined) continue;
      const pushed =
        sub.format === 'SIMPLIFIED'
          ? text
          : JSON.stringify({
              TopicOwner: options.accountId,
              TopicName: topic.name,
              Subscriber: options.accountId,
              SubscriptionName: sub.name,
              MessageId: message.messageId,
              Message: text,
              MessageMD5: md5,
              PublishTime: message.publishTime,
            });
      queue.add(pushed, 0, 8, Date.now());
    }
    return { status: 201, xml: toXml('Message', { MessageId: message.messageId, MessageBodyMD5: md5 }) };
  }

  function subscribe(topic: Topic, name: string, body: string): TopicReply {
    const root = parseXml(body);
    const endpoint = childText(root, 'Endpoint') ?? '';
    const queue = QUEUE_ENDPOINT.exec(endpoint)?.[1];
    if (queue === undefined) {
      throw new MnsFault('InvalidArgument', 400, `Endpoint must be acs:mns:<region>:<account>:queues/<name>`);
    }
    const format = (childText(root, 'NotifyContentFormat') ?? 'SIMPLIFIED').toUpperCase();
    if (format !== 'SIMPLIFIED' && format !== 'JSON') {
      throw new MnsFault('InvalidArgument', 400, `NotifyContentFormat ${format} is not emulated`);
    }
    const existing = topic.subscriptions.get(name);
    if (existing !== undefined) {
      if (existing.endpoint === endpoint && existing.format === format) return { status: 204 };
      throw new MnsFault('SubscriptionAlreadyExist', 409, `The subscription ${name} already exists.`);
    }
    topic.subscriptions.set(name, { name, endpoint, queue, format });
    return {
      status: 201,
      headers: { Location: `${options.endpoint()}/topics/${topic.name}/subscriptions/${name}` },
    };
  }

  return {
    handle(method, parts, body) {
      const [, name, sub, subName] = parts as [
        string,
        string | undefined,
        string | undefined,
        string | undefined,
      ];
      if (name === undefined) throw new MnsFault('InvalidArgument', 404, 'Listing topics is not emulated.');
      if (sub === undefined) {
        if (method === 'PUT') return createTopic(name);
        if (method === 'GET') {
          const t = topicOf(name);
          return {
            status: 200,
            xml: toXml('Topic', {
              TopicName: t.name,
              CreateTime: Math.floor(t.createTime / 1000),
              MessageCount: t.messages.length,
              MaximumMessageSize: MAX_BODY_BYTES,
            }),
          };
        }
      }
      if (sub === 'messages' && subName === undefined && method === 'POST')
        return publish(topicOf(name), body);
      if (sub === 'subscriptions' && subName !== undefined && method === 'PUT')
        return subscribe(topicOf(name), subName, body);
      throw new MnsFault('MethodNotAllowed', 405, `${method} /${parts.join('/')} is not emulated.`);
    },
    messages: (topic) => [...(topics.get(topic)?.messages ?? [])],
  };
}
