import http from 'node:http';
import https from 'node:https';
import MnsClient from '@alicloud/mns';

export interface MnsConnection {
  /** `http(s)://<accountId>.mns.<region>.aliyuncs.com`, or an emulator's address. */
  endpoint: string;
  /** Defaults to the account id in the endpoint's host name. */
  accountId?: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface MnsCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** The account id in an MNS endpoint's host name (`<accountId>.mns.<region>...`), if any. */
export function accountIdOf(endpoint: string): string | undefined {
  return /^(\d+)\.mns\./.exec(new URL(endpoint).hostname)?.[1];
}

/**
 * The SDK's timeouts are idle-socket timeouts too, so they must outlast the longest long poll;
 * receives pass their own. Other calls fail after 15 s instead of the SDK's 30-40 s.
 */
export const MNS_CALL_TIMEOUT_MS = 15_000;

/**
 * The MNS clients' own keep-alive pools, shared by every client in the process. By default the SDK
 * sends through `httpx`'s process-wide pool, which the OpenAPI SDKs (ECS, the MNS control API) use
 * too. `httpx` keeps a request's read timer on its socket and disarms it only when the answer is
 * read with `httpx.read`; the OpenAPI SDKs read theirs otherwise, so their timer stays armed on a
 * pooled socket and, when it fires, disarms the timer of the MNS request holding that socket by then,
 * whose answer is refused as a read timeout on arrival. A receive refused so has already taken its
 * messages, which then stay invisible for the queue's visibility timeout: a job's next step, lost
 * for minutes. The MNS SDK reads every answer with `httpx.read`, so in pools of its own it is safe.
 */
const AGENTS = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

function agentFor(endpoint: string): http.Agent {
  return new URL(endpoint).protocol === 'https:' ? AGENTS['https:'] : AGENTS['http:'];
}

export function newMnsClient(connection: MnsConnection): MnsClient {
  const accountId = connection.accountId ?? accountIdOf(connection.endpoint) ?? 'local';
  const client = new MnsClient(accountId, {
    endpoint: connection.endpoint.replace(/\/+$/, ''),
    accessKeyId: connection.accessKeyId,
    accessKeySecret: connection.accessKeySecret,
    ...(connection.securityToken !== undefined ? { securityToken: connection.securityToken } : {}),
    readTimeout: MNS_CALL_TIMEOUT_MS,
    connectTimeout: MNS_CALL_TIMEOUT_MS,
  });
  // Every typed method goes through `request`, whose options reach `httpx` as they are.
  const agent = agentFor(connection.endpoint);
  const request = client.request.bind(client);
  client.request = (method, resource, type, body, attentions, opts) =>
    request(method, resource, type, body, attentions, { ...opts, agent });
  return client;
}

/**
 * A client per credential set, read on every call: Function Compute's STS credentials rotate, and
 * the SDK signs with the keys it was built with. Rebuilding only when the set changes keeps the
 * SDK's keep-alive agent for the common case.
 */
export function rotatingMnsClient(
  connection: Omit<MnsConnection, 'accessKeyId' | 'accessKeySecret' | 'securityToken'>,
  credentials: () => MnsCredentials,
): () => MnsClient {
  let key = '';
  let client: MnsClient | undefined;
  return () => {
    const creds = credentials();
    const next = `${creds.accessKeyId}\n${creds.accessKeySecret}\n${creds.securityToken ?? ''}`;
    if (client === undefined || next !== key) {
      client = newMnsClient({ ...connection, ...creds });
      key = next;
    }
    return client;
  };
}
