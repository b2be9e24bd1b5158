import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyRing } from '../sts-keys.js';
import { Instance } from './engine.js';
import { OtsError, invalid } from './errors.js';
import { PlainBufferError } from './plainbuffer.js';
import { OperationType, decodeMessage, encodeMessage, type PbIndexMeta } from './protocol.js';
import { createTable, describeTable, indexFromPb, updateTable } from './table-ops.js';
import { batchGetRow, batchWriteRow, getRange, getRow, singleWrite } from './row-ops.js';

export interface TablestoreEmulatorOptions {
  /** 0 or absent: a free port. */
  port?: number;
  host?: string;
  instanceName?: string;
  accessKeyId?: string;
  accessKeySecret?: string;
  /** When set, requests must carry this STS token. */
  securityToken?: string;
  /** STS-style sets accepted besides the key above (issued and expired while running). */
  keys?: KeyRing;
  /** Clock for table TTL. */
  now?: () => number;
}

/** A failure the next matching requests get instead of (or after) being served. */
export interface InjectedFault {
  /** HTTP status and error code answered, e.g. 503 / OTSServerBusy. */
  status?: number;
  code?: string;
  message?: string;
  /** Apply the request first, then fail: the client cannot know its write happened. */
  afterApply?: boolean;
  /** Drop the connection instead of answering. */
  reset?: boolean;
}

export interface TablestoreEmulator {
  endpoint: string;
  instanceName: string;
  close(): Promise<void>;
  /** The next `times` requests of `operation` (e.g. 'PutRow') fail as described. */
  injectFault(operation: string, fault: InjectedFault, times?: number): void;
  /** Forgets faults not yet used. */
  clearFaults(): void;
  /** Requests received per operation since start (all operations when none is named). */
  requestCount(operation?: string): number;
}

const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export async function startTablestoreEmulator(
  opts: TablestoreEmulatorOptions = {},
): Promise<TablestoreEmulator> {
  const instanceName = opts.instanceName ?? 'ecsb-local';
  const accessKeyId = opts.accessKeyId ?? 'emulator-key';
  const accessKeySecret = opts.accessKeySecret ?? 'emulator-secret';
  const now = opts.now ?? (() => Date.now());
  const instance = new Instance(now);
  const faults = new Map<string, InjectedFault[]>();
  const counts = new Map<string, number>();

  const ops: Record<string, (body: Buffer) => Buffer> = {
    ListTable: () => encodeMessage('ListTableResponse', { tableNames: [...instance.tables.keys()].sort() }),
    CreateTable: (body) => createTable(instance, body),
    DescribeTable: (body) => describeTable(instance, body),
    UpdateTable: (body) => updateTable(instance, body),
    DeleteTable: (body) => {
      const req = decodeMessage<{ tableName: string }>('DeleteTableRequest', body);
      instance.deleteTable(req.tableName);
      return encodeMessage('DeleteTableResponse', {});
    },
    CreateIndex: (body) => {
      const req = decodeMessage<{ mainTableName: string; indexMeta: PbIndexMeta; includeBaseData?: boolean }>(
        'CreateIndexRequest',
        body,
      );
      instance.createIndex(req.mainTableName, indexFromPb(req.indexMeta), req.includeBaseData === true);
      return encodeMessage('CreateIndexResponse', {});
    },
    DropIndex: (body) => {
      const req = decodeMessage<{ mainTableName: string; indexName: string }>('DropIndexRequest', body);
      instance.dropIndex(req.mainTableName, req.indexName);
      return encodeMessage('DropIndexResponse', {});
    },
    GetRow: (body) => getRow(instance, body),
    PutRow: (body) => singleWrite(instance, 'PutRowRequest', 'PutRowResponse', OperationType.PUT, body),
    UpdateRow: (body) =>
      singleWrite(instance, 'UpdateRowRequest', 'UpdateRowResponse', OperationType.UPDATE, body),
    DeleteRow: (body) =>
      singleWrite(instance, 'DeleteRowRequest', 'DeleteRowResponse', OperationType.DELETE, body),
    GetRange: (body) => getRange(instance, body),
    BatchGetRow: (body) => batchGetRow(instance, body),
    BatchWriteRow: (body) => batchWriteRow(instance, body),
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_REQUEST_BYTES + 1024) chunks.push(c);
    });
    req.on('end', () => {
      const requestId = randomUUID();
      const operation = (req.url ?? '/').split('?')[0]?.replace(/^\//, '') ?? '';
      const reply = (status: number, body: Buffer) => {
        res.writeHead(status, {
          'content-type': 'application/x-protobuf',
          'content-length': String(body.length),
          'x-ots-requestid': requestId,
          'x-ots-contenttype': 'protocol buffer',
          'x-ots-date': new Date(now()).toISOString(),
        });
        res.end(body);
      };
      const fail = (err: OtsError) =>
        reply(err.status, encodeMessage('Error', { code: err.code, message: err.message }));
      try {
        if (req.method !== 'POST') throw new OtsError('OTSMethodNotAllowed', 'Only POST is supported.', 405);
        const body = Buffer.concat(chunks);
        if (size > MAX_REQUEST_BYTES) throw invalid('The request body is larger than 4 MB.');
        counts.set(operation, (counts.get(operation) ?? 0) + 1);
        const named = req.headers['x-ots-accesskeyid'];
        const issued = opts.keys?.find(Array.isArray(named) ? named[0] : named);
        authenticate(req, body, operation, {
          instanceName,
          ...(issued === undefined
            ? { accessKeyId, accessKeySecret, token: opts.securityToken }
            : { ...issued, token: issued.securityToken }),
        });
        const handler = ops[operation];
        if (handler === undefined)
          throw new OtsError('OTSUnsupportOperation', `Unsupported operation: ${operation}.`, 400);
        const fault = faults.get(operation)?.shift();
        if (fault !== undefined && !fault.afterApply) return injected(fault, req, fail);
        const out = handler(body);
        if (fault !== undefined) return injected(fault, req, fail);
        reply(200, out);
      } catch (err) {
        if (err instanceof OtsError) return fail(err);
        if (err instanceof PlainBufferError) return fail(invalid(`Invalid PlainBuffer: ${err.message}`));
        if (err instanceof Error && /required|invalid wire type|index out of range/i.test(err.message)) {
          return fail(invalid(`Invalid request: ${err.message}`));
        }
        fail(new OtsError('OTSInternalServerError', err instanceof Error ? err.message : String(err), 500));
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    instanceName,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    injectFault(operation, fault, times = 1) {
      const list = faults.get(operation) ?? [];
      for (let i = 0; i < times; i += 1) list.push(fault);
      faults.set(operation, list);
    },
    clearFaults() {
      faults.clear();
    },
    requestCount(operation) {
      if (operation !== undefined) return counts.get(operation) ?? 0;
      return [...counts.values()].reduce((a, b) => a + b, 0);
    },
  };
}

function injected(fault: InjectedFault, req: http.IncomingMessage, fail: (e: OtsError) => void): void {
  if (fault.reset) {
    req.socket.destroy();
    return;
  }
  fail(new OtsError(fault.code ?? 'OTSServerBusy', fault.message ?? 'Server is busy.', fault.status ?? 503));
}

/**
 * The SDK signs `/<Operation>\nPOST\n` plus every x-ots-* header but the signature, sorted, as
 * `name:value` lines, with HMAC-SHA1 and the access key secret. Checked so a wrong key fails here as
 * it would in the cloud; the date is not checked for skew.
 */
function authenticate(
  req: http.IncomingMessage,
  body: Buffer,
  operation: string,
  expect: { instanceName: string; accessKeyId: string; accessKeySecret: string; token: string | undefined },
): void {
  const h = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const authFailed = (message: string) => new OtsError('OTSAuthFailed', message, 403);
  if (h('x-ots-date') === undefined) throw authFailed('Missing x-ots-date.');
  if (h('x-ots-instancename') !== expect.instanceName) throw authFailed('The instance name does not match.');
  if (h('x-ots-accesskeyid') !== expect.accessKeyId) throw authFailed('The AccessKeyID does not exist.');
  if (expect.token !== undefined && h('x-ots-ststoken') !== expect.token)
    throw authFailed('The STS token is invalid.');
  const md5 = createHash('md5').update(body).digest('base64');
  if (h('x-ots-contentmd5') !== md5) throw invalid('Content MD5 mismatch.');
  const names = Object.keys(req.headers)
    .filter((n) => n.startsWith('x-ots-') && n !== 'x-ots-signature')
    .sort();
  const canonical = names.map((n) => `${n}:${h(n) ?? ''}`).join('\n');
  const stringToSign = `/${operation}\nPOST\n\n${canonical}\n`;
  const expected = createHmac('sha1', expect.accessKeySecret).update(stringToSign).digest();
  const given = Buffer.from(h('x-ots-signature') ?? '', 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw authFailed('Signature mismatch.');
  }
}
