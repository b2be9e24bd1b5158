/** The shapes Function Compute (FC 3.0, Node.js 20) hands to a handler and expects back. */

export interface FcCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface FcContext {
  requestId: string;
  credentials?: FcCredentials;
  function?: { name: string; handler?: string; memory?: number; timeout?: number };
  region?: string;
  accountId?: string;
  logger?: {
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
  };
}

export interface FcHttpEvent {
  version: 'v1';
  rawPath: string;
  headers: Record<string, string>;
  queryParameters: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
  requestContext: {
    accountId?: string;
    domainName?: string;
    domainPrefix?: string;
    requestId: string;
    time?: string;
    timeEpoch?: string;
    http: { method: string; path: string; protocol?: string; sourceIp: string; userAgent?: string };
  };
}

export interface FcHttpResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}

export interface FcTimerEvent {
  triggerTime: string;
  triggerName: string;
  payload: string;
}

/** MNS queue trigger through EventBridge: one CloudEvent, or an array in batch mode. */
export interface FcMnsCloudEvent {
  id: string;
  source: string;
  specversion: string;
  type: 'mns:Queue:SendMessage';
  subject?: string;
  time?: string;
  data: { requestId?: string; messageId: string; messageBody: string; [k: string]: unknown };
  [k: string]: unknown;
}

export type FcHandler<R> = (event: Buffer, context: FcContext) => Promise<R>;
