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
