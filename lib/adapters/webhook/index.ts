import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { isPrivateAddress } from '../../domain/notifications.js';
import type { Notifier, WebhookAnswer, WebhookRequest } from '../../ports/notifier.js';

/** Bytes of a receiver's answer kept for the delivery record; the rest is drained and dropped. */
const ANSWER_BYTES = 512;

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * The lookup the HTTP client connects through: the name is resolved once, every address is checked,
 * and the socket goes to a checked address. Checking at creation alone would let DNS point an
 * accepted name at a private address later (DNS rebinding).
 */
function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
      if (err) return callback(err, '');
      const refused = allowPrivate ? [] : addresses.filter((a) => isPrivateAddress(a.address));
      if (refused.length > 0 || addresses.length === 0) {
        const e: NodeJS.ErrnoException = new Error(
          addresses.length === 0
            ? `${hostname} resolves to no address`
            : `${hostname} resolves to a private, loopback or link-local address (${refused[0]?.address})`,
        );
        e.code = 'EADDRNOTALLOWED';
        return callback(e, '');
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0] as dns.LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

export function createWebhookNotifier(): Notifier {
  return {
    postWebhook: (request) => post(request),
    async resolve(host) {
      const bare = host.replace(/^\[|\]$/g, '');
      if (net.isIP(bare) !== 0) return [bare];
      const addresses = await dns.promises.lookup(bare, { all: true });
      return addresses.map((a) => a.address);
    },
  };
}

function post(request: WebhookRequest): Promise<WebhookAnswer> {
  const url = new URL(request.url);
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  // An address literal is not looked up by the client, so it is checked here.
  if (net.isIP(literal) !== 0 && !request.allowPrivate && isPrivateAddress(literal)) {
    return Promise.resolve({
      ok: false,
      status: null,
      error: `${literal} is a private, loopback or link-local address`,
    });
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
        lookup: guardedLookup(request.allowPrivate) as unknown as net.LookupFunction,
        timeout: request.timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < ANSWER_BYTES) text += chunk.slice(0, ANSWER_BYTES - text.length);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve(
            status >= 200 && status < 300
              ? { ok: true, status }
              : { ok: false, status, error: `receiver answered ${status}${text ? `: ${text}` : ''}` },
          );
        });
        res.on('error', (err) => resolve({ ok: false, status: res.statusCode ?? null, error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${request.timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, status: null, error: err.message }));
    req.end(request.body);
  });
}
