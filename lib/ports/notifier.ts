/** Outbound notifications. Adapter: HTTPS webhooks through Node's HTTP client. */

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** False: the connection is refused when the host resolves to a private, loopback or link-local address. */
  allowPrivate: boolean;
}

export type WebhookAnswer =
  { ok: true; status: number } | { ok: false; status: number | null; error: string };

export interface Notifier {
  /** One POST; never follows redirects. Resolves the host itself and checks every address it connects to. */
  postWebhook(request: WebhookRequest): Promise<WebhookAnswer>;
  /** The addresses a host name resolves to (an address literal resolves to itself). */
  resolve(host: string): Promise<string[]>;
}
