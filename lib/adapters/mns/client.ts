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

export function newMnsClient(connection: MnsConnection): MnsClient {
  const accountId = connection.accountId ?? accountIdOf(connection.endpoint) ?? 'local';
  return new MnsClient(accountId, {
    endpoint: connection.endpoint.replace(/\/+$/, ''),
    accessKeyId: connection.accessKeyId,
    accessKeySecret: connection.accessKeySecret,
    ...(connection.securityToken !== undefined ? { securityToken: connection.securityToken } : {}),
    readTimeout: MNS_CALL_TIMEOUT_MS,
    connectTimeout: MNS_CALL_TIMEOUT_MS,
  });
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
