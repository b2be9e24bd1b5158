import { checkCondition, matchesFilter } from './conditions.js';
import type { Instance } from './engine.js';
import { OtsError, invalid } from './errors.js';
import { compareKeys, type StoredRow } from './rows.js';
import { decodeRow, type Value } from './plainbuffer.js';
import { encodeRows, type RowToEncode } from './plainbuffer-encode.js';
import {
  Direction,
  OperationType,
  ReturnType,
  decodeMessage,
  encodeMessage,
  type PbCondition,
  type PbReturnContent,
} from './protocol.js';

/** Row operations: single and batch reads and writes, and ranges, with their per-request limits. */

const MAX_BATCH_WRITE_ROWS = 200;
const MAX_BATCH_GET_ROWS = 100;
const MAX_RANGE_ROWS = 5000;

const CONSUMED = { capacityUnit: { read: 1, write: 1 } };

function project(row: StoredRow, keyNames: string[], columns: string[] | undefined): RowToEncode {
  const wanted = columns !== undefined && columns.length > 0 ? new Set(columns) : undefined;
  const attributes = [...row.attrs.entries()]
    .filter(([name]) => wanted === undefined || wanted.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, a]) => ({ name, value: a.value, timestamp: a.timestamp }));
  return { primaryKey: row.pk.map((value, i) => ({ name: keyNames[i] as string, value })), attributes };
}

export function getRow(instance: Instance, body: Buffer): Buffer {
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

export function singleWrite(
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

export function getRange(instance: Instance, body: Buffer): Buffer {
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

export function batchGetRow(instance: Instance, body: Buffer): Buffer {
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

export function batchWriteRow(instance: Instance, body: Buffer): Buffer {
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
