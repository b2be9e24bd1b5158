import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyRing } from '../sts-keys.js';
import { checkCondition, matchesFilter } from './conditions.js';
import {
  Instance,
  OtsError,
  compareKeys,
  invalid,
  type ColumnType,
  type PkType,
  type StoredRow,
  type Table,
  type TableSchema,
} from './engine.js';
import { PlainBufferError, decodeRow, encodeRows, type RowToEncode, type Value } from './plainbuffer.js';
import {
  DefinedColumnType,
  Direction,
  OperationType,
  PrimaryKeyType,
  ReturnType,
  decodeMessage,
  encodeMessage,
  type PbCondition,
  type PbIndexMeta,
  type PbReturnContent,
  type PbTableMeta,
} from './protocol.js';

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

const MAX_BATCH_WRITE_ROWS = 200;
const MAX_BATCH_GET_ROWS = 100;
const MAX_RANGE_ROWS = 5000;
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

const CONSUMED = { capacityUnit: { read: 1, write: 1 } };

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

function pkTypeName(n: number): PkType {
  if (n === PrimaryKeyType.INTEGER) return 'INTEGER';
  if (n === PrimaryKeyType.STRING) return 'STRING';
  if (n === PrimaryKeyType.BINARY) return 'BINARY';
  throw invalid(`unknown primary key type ${n}`);
}

function columnTypeName(n: number): ColumnType {
  const name = (Object.keys(DefinedColumnType) as (keyof typeof DefinedColumnType)[]).find(
    (k) => DefinedColumnType[k] === n,
  );
  if (name === undefined) throw invalid(`unknown defined column type ${n}`);
  return name;
}

function indexFromPb(meta: PbIndexMeta): { name: string; primaryKey: string[]; definedColumn: string[] } {
  if (meta.indexType !== 0) throw invalid('only global secondary indexes are emulated');
  return { name: meta.name, primaryKey: [...meta.primaryKey], definedColumn: [...meta.definedColumn] };
}

function createTable(instance: Instance, body: Buffer): Buffer {
  const req = decodeMessage<{
    tableMeta: PbTableMeta;
    tableOptions?: { timeToLive?: number; maxVersions?: number };
    indexMetas: PbIndexMeta[];
  }>('CreateTableRequest', body);
  for (const pk of req.tableMeta.primaryKey) {
    // protobufjs fills an absent enum with its first value, so presence must be checked, not the value.
    if (Object.prototype.hasOwnProperty.call(pk, 'option')) {
      throw invalid('auto-increment primary keys are not emulated');
    }
  }
  const schema: TableSchema = {
    name: req.tableMeta.tableName,
    primaryKey: req.tableMeta.primaryKey.map((p) => ({ name: p.name, type: pkTypeName(p.type) })),
    definedColumn: req.tableMeta.definedColumn.map((d) => ({ name: d.name, type: columnTypeName(d.type) })),
    timeToLive: req.tableOptions?.timeToLive || -1,
    maxVersions: req.tableOptions?.maxVersions || 1,
  };
  instance.createTable(schema, req.indexMetas.map(indexFromPb));
  return encodeMessage('CreateTableResponse', {});
}

function tableOptionsOf(t: Table): Record<string, unknown> {
  return {
    timeToLive: t.schema.timeToLive,
    maxVersions: t.schema.maxVersions,
    deviationCellVersionInSec: 86_400,
    allowUpdate: true,
  };
}

function describeTable(instance: Instance, body: Buffer): Buffer {
  const req = decodeMessage<{ tableName: string }>('DescribeTableRequest', body);
  const t = instance.table(req.tableName);
  const pkTypes: Record<PkType, number> = PrimaryKeyType;
  return encodeMessage('DescribeTableResponse', {
    tableMeta: {
      tableName: t.schema.name,
      primaryKey: t.schema.primaryKey.map((p) => ({ name: p.name, type: pkTypes[p.type] })),
      definedColumn: t.schema.definedColumn.map((d) => ({ name: d.name, type: DefinedColumnType[d.type] })),
    },
    reservedThroughputDetails: { capacityUnit: { read: 0, write: 0 }, lastIncreaseTime: 0 },
    tableOptions: tableOptionsOf(t),
    tableStatus: 1,
    indexMetas: [...t.indexes.values()].map(({ schema }) => ({
      name: schema.name,
      primaryKey: schema.fullKey,
      definedColumn: schema.definedColumn,
      indexUpdateMode: 0,
      indexType: 0,
      indexSyncPhase: 2,
    })),
  });
}

function updateTable(instance: Instance, body: Buffer): Buffer {
  const req = decodeMessage<{
    tableName: string;
    tableOptions?: { timeToLive?: number; maxVersions?: number };
  }>('UpdateTableRequest', body);
  const t = instance.table(req.tableName);
  const ttl = req.tableOptions?.timeToLive;
  if (ttl !== undefined && ttl !== 0) {
    if (ttl !== -1 && ttl < 86_400) throw invalid('time_to_live must be -1 or at least 86400 seconds');
    t.schema = { ...t.schema, timeToLive: ttl };
  }
  const versions = req.tableOptions?.maxVersions;
  if (versions !== undefined && versions !== 0) t.schema = { ...t.schema, maxVersions: versions };
  return encodeMessage('UpdateTableResponse', {
    reservedThroughputDetails: { capacityUnit: { read: 0, write: 0 }, lastIncreaseTime: 0 },
    tableOptions: tableOptionsOf(t),
  });
}

function project(row: StoredRow, keyNames: string[], columns: string[] | undefined): RowToEncode {
  const wanted = columns !== undefined && columns.length > 0 ? new Set(columns) : undefined;
  const attributes = [...row.attrs.entries()]
    .filter(([name]) => wanted === undefined || wanted.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, a]) => ({ name, value: a.value, timestamp: a.timestamp }));
  return { primaryKey: row.pk.map((value, i) => ({ name: keyNames[i] as string, value })), attributes };
}

function getRow(instance: Instance, body: Buffer): Buffer {
  const req = decodeMessage<{
    tableName: string;
    primaryKey: Uint8Array;
    columnsToGet: string[];
    filter?: Uint8Array;
  }>('GetRowRequest', body);
  const t = instance.table(req.tableName);
  const key = t.checkKey(decodeRow(Buffer.from(req.primaryKey)).primaryKey, false);
  const row = t.getLive(key);
  const visible =
    row !== undefined &&
    (req.filter === undefined || req.filter.length === 0 || matchesFilter(req.filter, row.attrs));
  return encodeMessage('GetRowResponse', {
    consumed: CONSUMED,
    row: visible
      ? encodeRows([
          project(
            row,
            t.schema.primaryKey.map((p) => p.name),
            req.columnsToGet,
          ),
        ])
      : Buffer.alloc(0),
  });
}

/** One row write (PutRow, UpdateRow, DeleteRow, or one row of a batch); returns the row for return_content. */
function applyWrite(
  instance: Instance,
  tableName: string,
  type: number,
  rowChange: Uint8Array,
  condition: PbCondition | undefined,
): RowToEncode {
  const t = instance.table(tableName);
  const decoded = decodeRow(Buffer.from(rowChange));
  const key = t.checkKey(decoded.primaryKey, false);
  const current = t.getLive(key);
  checkCondition(condition, current);
  const stamp = BigInt(instance.now());
  if (type === OperationType.DELETE) {
    t.write(key, undefined);
  } else if (type === OperationType.PUT) {
    if (decoded.cells.some((c) => c.op !== 'put')) throw invalid('PutRow cells cannot delete or increment');
    t.write(key, t.applyCells(undefined, decoded.cells, true, stamp));
  } else if (type === OperationType.UPDATE) {
    t.write(key, t.applyCells(current, decoded.cells, false, stamp));
  } else {
    throw invalid(`unknown operation type ${type}`);
  }
  return { primaryKey: decoded.primaryKey, attributes: [] };
}

function singleWrite(
  instance: Instance,
  reqType: string,
  respType: string,
  type: number,
  body: Buffer,
): Buffer {
  const req = decodeMessage<{
    tableName: string;
    row?: Uint8Array;
    rowChange?: Uint8Array;
    primaryKey?: Uint8Array;
    condition: PbCondition;
    returnContent?: PbReturnContent;
  }>(reqType, body);
  const change = req.row ?? req.rowChange ?? req.primaryKey;
  if (change === undefined) throw invalid('missing row');
  const written = applyWrite(instance, req.tableName, type, change, req.condition);
  const wantsPk = req.returnContent?.returnType === ReturnType.PK;
  return encodeMessage(respType, {
    consumed: CONSUMED,
    row: wantsPk ? encodeRows([written]) : Buffer.alloc(0),
  });
}

function getRange(instance: Instance, body: Buffer): Buffer {
  const req = decodeMessage<{
    tableName: string;
    direction: number;
    columnsToGet: string[];
    limit?: number;
    inclusiveStartPrimaryKey: Uint8Array;
    exclusiveEndPrimaryKey: Uint8Array;
    filter?: Uint8Array;
  }>('GetRangeRequest', body);
  const source = instance.rangeSource(req.tableName);
  const start = source.checkKey(decodeRow(Buffer.from(req.inclusiveStartPrimaryKey)).primaryKey);
  const end = source.checkKey(decodeRow(Buffer.from(req.exclusiveEndPrimaryKey)).primaryKey);
  const forward = req.direction !== Direction.BACKWARD;
  const order = compareKeys(start, end);
  if (forward && order >= 0) throw invalid('Begin key must be less than end key in FORWARD.');
  if (!forward && order <= 0) throw invalid('Begin key must be more than end key in BACKWARD.');
  if (req.limit !== undefined && req.limit !== null && req.limit < 0)
    throw invalid('limit must not be negative');
  const limit = Math.min(req.limit || MAX_RANGE_ROWS, MAX_RANGE_ROWS);
  const rows = source.rows.rows;
  const out: RowToEncode[] = [];
  let next: Value[] | undefined;
  let i = source.rows.lowerBound(start);
  if (!forward) {
    const at = rows[i];
    if (at === undefined || compareKeys(at.pk, start) !== 0) i -= 1;
  }
  const step = forward ? 1 : -1;
  for (; i >= 0 && i < rows.length; i += step) {
    const row = rows[i] as StoredRow;
    const c = compareKeys(row.pk, end);
    if (forward ? c >= 0 : c <= 0) break;
    if (out.length >= limit) {
      next = row.pk;
      break;
    }
    if (!source.isLive(row)) continue;
    if (req.filter !== undefined && req.filter.length > 0 && !matchesFilter(req.filter, row.attrs)) continue;
    out.push(project(row, source.keyNames, req.columnsToGet));
  }
  return encodeMessage('GetRangeResponse', {
    consumed: CONSUMED,
    rows: encodeRows(out),
    nextStartPrimaryKey:
      next === undefined
        ? undefined
        : encodeRows([
            {
              primaryKey: next.map((value, n) => ({ name: source.keyNames[n] as string, value })),
              attributes: [],
            },
          ]),
  });
}

function batchGetRow(instance: Instance, body: Buffer): Buffer {
  const req = decodeMessage<{
    tables: { tableName: string; primaryKey: Uint8Array[]; columnsToGet: string[] }[];
  }>('BatchGetRowRequest', body);
  const total = req.tables.reduce((n, t) => n + t.primaryKey.length, 0);
  if (total > MAX_BATCH_GET_ROWS) throw invalid(`Rows count exceeds the upper limit: ${MAX_BATCH_GET_ROWS}.`);
  if (total === 0) throw invalid('No row in BatchGetRow.');
  const tables = req.tables.map((tb) => ({
    tableName: tb.tableName,
    rows: tb.primaryKey.map((pkBytes) => {
      try {
        const t = instance.table(tb.tableName);
        const key = t.checkKey(decodeRow(Buffer.from(pkBytes)).primaryKey, false);
        const row = t.getLive(key);
        return {
          isOk: true,
          consumed: CONSUMED,
          row:
            row === undefined
              ? Buffer.alloc(0)
              : encodeRows([
                  project(
                    row,
                    t.schema.primaryKey.map((p) => p.name),
                    tb.columnsToGet,
                  ),
                ]),
        };
      } catch (err) {
        if (!(err instanceof OtsError)) throw err;
        return { isOk: false, error: { code: err.code, message: err.message } };
      }
    }),
  }));
  return encodeMessage('BatchGetRowResponse', { tables });
}

function batchWriteRow(instance: Instance, body: Buffer): Buffer {
  const req = decodeMessage<{
    tables: { tableName: string; rows: { type: number; rowChange: Uint8Array; condition: PbCondition }[] }[];
  }>('BatchWriteRowRequest', body);
  const total = req.tables.reduce((n, t) => n + t.rows.length, 0);
  if (total > MAX_BATCH_WRITE_ROWS)
    throw invalid(`Rows count exceeds the upper limit: ${MAX_BATCH_WRITE_ROWS}.`);
  if (total === 0) throw invalid('No row in BatchWriteRow.');
  for (const tb of req.tables) {
    const seen = new Set<string>();
    for (const r of tb.rows) {
      const key = JSON.stringify(decodeRow(Buffer.from(r.rowChange)).primaryKey, (_k, v: unknown) =>
        typeof v === 'bigint' ? v.toString() : v,
      );
      if (seen.has(key)) throw invalid('Duplicated primary key in one BatchWriteRow.');
      seen.add(key);
    }
  }
  const tables = req.tables.map((tb) => ({
    tableName: tb.tableName,
    rows: tb.rows.map((r) => {
      try {
        applyWrite(instance, tb.tableName, r.type, r.rowChange, r.condition);
        return { isOk: true, consumed: CONSUMED };
      } catch (err) {
        if (!(err instanceof OtsError)) throw err;
        return { isOk: false, error: { code: err.code, message: err.message } };
      }
    }),
  }));
  return encodeMessage('BatchWriteRowResponse', { tables });
}
