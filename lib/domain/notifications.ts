/**
 * Notifications: what a subscriber is told, when a failed delivery is tried again, and which
 * webhook addresses we refuse to call.
 *
 * Delivery is at least once: a receiver may see one event more than once (the `id` of the
 * CloudEvent and the `webhook-id` header stay the same across attempts, so it can drop repeats).
 * A failing receiver is retried with exponential backoff, doubling from the first delay, until the
 * retry window (24 h by default) has passed since the event; the delivery is then dead-lettered
 * and stays visible in the subscription's deliveries.
 */

export const EVENT_TYPES = [
  'job.failed',
  'job.completed',
  'backup.expired',
  'backup.lock-drift',
  'protection.changed',
  'backup.verification-failed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The CloudEvents `type` attribute is reverse-DNS by convention; our short names follow this prefix. */
export const CLOUD_EVENT_TYPE_PREFIX = 'com.ecs-backup.';
export const CLOUD_EVENT_SOURCE = '/ecs-backup';

/** A CloudEvents 1.0 event in structured JSON mode. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  /** RFC 3339. */
  time: string;
  subject?: string;
  datacontenttype: 'application/json';
  data: Record<string, unknown>;
}

/** What raised an event, for the subscription filter. */
export interface EventScope {
  instanceId?: string | null;
  planId?: string | null;
}

/** An event before it is addressed to subscribers. `id` is derived from what happened, so raising it twice is one event. */
export interface ProductEvent {
  id: string;
  type: EventType;
  at: number;
  scope: EventScope;
  subject?: string;
  data: Record<string, unknown>;
}

export type SubscriptionTarget = { kind: 'webhook'; url: string } | { kind: 'mns-topic'; topic: string };

/** MNS topic names: a letter first, then letters, digits and hyphens, at most 256 characters. */
export const MNS_TOPIC_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,255}$/;

export interface Subscription {
  id: string;
  target: SubscriptionTarget;
  events: EventType[];
  filter: { instanceId?: string; planId?: string };
  /** `whsec_<base64>`; shown once, when the subscription is created. */
  secret: string;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'DEAD';

export interface DeliveryAttempt {
  at: number;
  /** HTTP status, when the receiver answered. */
  status: number | null;
  error: string | null;
}

export interface Delivery {
  /** Derived from the subscription and the event: raising an event again finds the same delivery. */
  id: string;
  subscriptionId: string;
  eventId: string;
  eventType: EventType;
  event: CloudEvent;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  /** When the next attempt is due; null once delivered or dead. */
  nextAttemptAt: number | null;
  /** Why the delivery was dead-lettered. */
  deadReason: string | null;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export function toCloudEvent(event: ProductEvent): CloudEvent {
  return {
    specversion: '1.0',
    id: event.id,
    source: CLOUD_EVENT_SOURCE,
    type: `${CLOUD_EVENT_TYPE_PREFIX}${event.type}`,
    time: new Date(event.at).toISOString(),
    ...(event.subject === undefined ? {} : { subject: event.subject }),
    datacontenttype: 'application/json',
    data: event.data,
  };
}

/** A subscription hears an event when it asked for the type and every filter field it set agrees. */
export function subscriptionMatches(sub: Subscription, event: ProductEvent): boolean {
  if (!sub.events.includes(event.type)) return false;
  if (sub.filter.instanceId !== undefined && sub.filter.instanceId !== event.scope.instanceId) return false;
  if (sub.filter.planId !== undefined && sub.filter.planId !== event.scope.planId) return false;
  return true;
}

export interface RetryPolicy {
  firstRetrySeconds: number;
  /** No attempt starts later than this after the delivery was created. */
  windowSeconds: number;
  /** One wait never exceeds this. */
  maxDelaySeconds: number;
}

export type NextAttempt = { retryAt: number } | { dead: string };

/** After `failures` failed attempts of a delivery created at `createdAt`, when to try again, or give up. */
export function nextAttempt(
  policy: RetryPolicy,
  createdAt: number,
  failures: number,
  now: number,
): NextAttempt {
  const exp = policy.firstRetrySeconds * 2 ** Math.max(0, failures - 1);
  const delay = Math.min(exp, policy.maxDelaySeconds) * 1000;
  const deadline = createdAt + policy.windowSeconds * 1000;
  if (now + delay > deadline) {
    return { dead: `gave up after ${failures} attempts over ${Math.round((now - createdAt) / 1000)} s` };
  }
  return { retryAt: now + delay };
}

/**
 * Addresses a webhook must not reach unless private targets are allowed: loopback, link-local
 * (which holds the cloud metadata service, 100.100.100.200 on Alibaba Cloud is in shared space),
 * private and shared (CGNAT) ranges, unspecified and multicast. Refusing them keeps a webhook from
 * being a way into the network the functions run in (server-side request forgery).
 */
export function isPrivateAddress(address: string): boolean {
  const v4 = parseIpv4(address.startsWith('::ffff:') ? address.slice(7) : address);
  if (v4 !== null) {
    const [a, b] = v4 as [number, number, number, number];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  const lower = address.toLowerCase().replace(/^\[|\]$/g, '');
  if (!lower.includes(':')) return false;
  if (lower === '::' || lower === '::1') return true;
  const first = parseInt(lower.split(':')[0] || '0', 16);
  return (
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xff00) === 0xff00 // multicast
  );
}

function parseIpv4(text: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

export interface WebhookUrlRules {
  requireHttps: boolean;
  allowPrivate: boolean;
}

/** What can be said of a webhook URL without resolving it; null = acceptable so far. */
export function checkWebhookUrl(text: string, rules: WebhookUrlRules): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (rules.requireHttps && url.protocol !== 'https:') return 'must use https';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (
    !rules.allowPrivate &&
    (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host))
  ) {
    return `points to a private, loopback or link-local address (${host}); set WEBHOOK_ALLOW_PRIVATE=true to allow it`;
  }
  return null;
}
