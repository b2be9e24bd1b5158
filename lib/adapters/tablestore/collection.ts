import TableStore from 'tablestore';
import {
  columnValues,
  physicalIndexName,
  physicalTableName,
  type IndexDef,
  type TableDef,
} from '../../schema/tables.js';
import type { Page, PageRequest, WriteResult } from '../../ports/store.js';
import {
  ConditionFailed,
  TablestoreError,
  isInDoubtRowError,
  isRetryableRowError,
  type TablestoreClient,
} from './client.js';
import { clampLimit, decodeCursor, encodeCursor, type CursorPosition } from '../store-paging.js';

/**
 * A table of versioned JSON documents on Tablestore: conditional writes on the `version` column,
 * batch reads and writes within the service limits, and queries on global secondary indexes.
 */

const BATCH_WRITE_ROWS = 200;
const BATCH_GET_ROWS = 100;
const RANGE_PAGE_MAX = 5000;

export type Versioned = { version: number };
export type Scalar = string | number;
type PkInput = TableStore.PrimaryKeyInput;

export const { Condition, SingleColumnCondition, RowExistenceExpectation, ComparatorType, Long } = TableStore;

function cell(value: Scalar): string | TableStore.int64 {
  return typeof value === 'number' ? Long.fromNumber(value) : value;
}

function plain(value: unknown): Scalar | undefined {
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (value !== null && typeof value === 'object' && 'toNumber' in value) {
    return (value as { toNumber(): number }).toNumber();
  }
  return undefined;
}

export interface Ctx {
  client: TablestoreClient;
  prefix: string;
}

interface Candidate {
  k: number;
  id: string;
}

export interface Scan {
  index: IndexDef;
  /** One key prefix per range; several ranges (e.g. a list of statuses) are merged in order. */
  prefixes: Scalar[][];
  /** Sort-key range [from, to). */
  from?: number;
  to?: number;
  desc: boolean;
  after?: CursorPosition;
}

export class TablestoreCollection<T extends Versioned> {
  readonly tableName: string;

  constructor(
    protected readonly ctx: Ctx,
    protected readonly def: TableDef<T>,
  ) {
    this.tableName = physicalTableName(def, ctx.prefix);
  }

  protected keyOf(item: T): string {
    const key = (item as Record<string, unknown>)[this.def.primaryKey];
    if (typeof key !== 'string' || key === '') {
      throw new TypeError(`${this.def.name}: ${this.def.primaryKey} must be a non-empty string`);
    }
    return key;
  }

  protected pk(id: string): PkInput {
    return [{ [this.def.primaryKey]: id }];
  }

  protected attributes(stored: T): TableStore.AttributesInput {
    const cols: TableStore.AttributesInput = [
      { doc: JSON.stringify(stored) },
      { version: Long.fromNumber(stored.version) },
    ];
    for (const [name, value] of Object.entries(columnValues(this.def, stored))) {
      // Absent, not null: a missing column keeps the row out of the sparse global index.
      if (value !== null) cols.push({ [name]: cell(value) });
    }
    return cols;
  }

  protected parse(row: { attributes?: TableStore.AttributesOutput | null } | undefined): T | undefined {
    const attrs = row?.attributes;
    if (!attrs || attrs.length === 0) return undefined;
    let doc: string | undefined;
    let version: number | undefined;
    for (const a of attrs) {
      if (a.columnName === 'doc' && typeof a.columnValue === 'string') doc = a.columnValue;
      if (a.columnName === 'version') version = plain(a.columnValue) as number | undefined;
    }
    if (doc === undefined || version === undefined) return undefined;
    const item = JSON.parse(doc) as T;
    item.version = version;
    return item;
  }

  async get(id: string): Promise<T | undefined> {
    const res = await this.ctx.client.read((sdk) =>
      sdk.getRow({ tableName: this.tableName, primaryKey: this.pk(id), columnsToGet: ['doc', 'version'] }),
    );
    return this.parse(res.row);
  }

  async getMany(ids: string[]): Promise<T[]> {
    const unique = [...new Set(ids)];
    const found = await this.fetch(unique);
    return unique.flatMap((id) => {
      const item = found.get(id);
      return item === undefined ? [] : [item];
    });
  }

  /** BatchGetRow in chunks of 100; rows failing with a retryable code are asked again. */
  protected async fetch(ids: string[]): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    for (let i = 0; i < ids.length; i += BATCH_GET_ROWS) {
      await this.ctx.client.retryRows(ids.slice(i, i + BATCH_GET_ROWS), async (chunk) => {
        const res = await this.ctx.client.read((sdk) =>
          sdk.batchGetRow({
            tables: [
              {
                tableName: this.tableName,
                primaryKey: chunk.map((id) => this.pk(id)),
                columnsToGet: ['doc', 'version'],
              },
            ],
          }),
        );
        const rows = res.tables[0] ?? [];
        return chunk.map((id, n) => {
          const r = rows[n];
          if (r === undefined || !r.isOk) {
            if (!isRetryableRowError(r?.errorCode)) {
              throw new TablestoreError(
                r?.errorMessage ?? 'batch read failed',
                r?.errorCode ?? 'Unknown',
                undefined,
                undefined,
              );
            }
            return { row: id, retry: true };
          }
          const item = this.parse(r);
          if (item !== undefined) out.set(id, item);
          return { row: id, retry: false };
        });
      });
    }
    return out;
  }

  private same(a: T | undefined, b: T): boolean {
    return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
  }

  async create(item: T): Promise<WriteResult<T>> {
    const stored = { ...item, version: 1 };
    try {
      await this.ctx.client.call((sdk) =>
        sdk.putRow({
          tableName: this.tableName,
          primaryKey: this.pk(this.keyOf(item)),
          attributeColumns: this.attributes(stored),
          condition: new Condition(RowExistenceExpectation.EXPECT_NOT_EXIST, null),
        }),
      );
      return { ok: true, value: stored };
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      const current = await this.get(this.keyOf(item));
      // A retried put whose first attempt landed trips its own condition: that is our row.
      if (err.ambiguous && this.same(current, stored)) return { ok: true, value: stored };
      return current === undefined
        ? { ok: false, reason: 'exists' }
        : { ok: false, reason: 'exists', current };
    }
  }

  async update(item: T, expectedVersion: number): Promise<WriteResult<T>> {
    const stored = { ...item, version: expectedVersion + 1 };
    const key = this.keyOf(item);
    try {
      await this.ctx.client.call((sdk) =>
        sdk.putRow({
          tableName: this.tableName,
          primaryKey: this.pk(key),
          attributeColumns: this.attributes(stored),
          condition: new Condition(
            RowExistenceExpectation.EXPECT_EXIST,
            new SingleColumnCondition(
              'version',
              Long.fromNumber(expectedVersion),
              ComparatorType.EQUAL,
              false,
            ),
          ),
        }),
      );
      return { ok: true, value: stored };
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      const current = await this.get(key);
      if (current === undefined) return { ok: false, reason: 'not_found' };
      if (err.ambiguous && this.same(current, stored)) return { ok: true, value: stored };
      return { ok: false, reason: 'conflict', current };
    }
  }

  async delete(id: string, expectedVersion?: number): Promise<WriteResult<undefined>> {
    try {
      await this.ctx.client.call((sdk) =>
        sdk.deleteRow({
          tableName: this.tableName,
          primaryKey: this.pk(id),
          condition: new Condition(
            RowExistenceExpectation.EXPECT_EXIST,
            expectedVersion === undefined
              ? null
              : new SingleColumnCondition(
                  'version',
                  Long.fromNumber(expectedVersion),
                  ComparatorType.EQUAL,
                  false,
                ),
          ),
        }),
      );
      return { ok: true, value: undefined };
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      const current = await this.get(id);
      if (current === undefined)
        return err.ambiguous ? { ok: true, value: undefined } : { ok: false, reason: 'not_found' };
      return { ok: false, reason: 'conflict' };
    }
  }

  async createMany(items: T[]): Promise<WriteResult<T>[]> {
    const results: WriteResult<T>[] = new Array<WriteResult<T>>(items.length);
    const firstAt = new Map<string, number>();
    const rows: { n: number; key: string; stored: T; ambiguous: boolean; exists: boolean }[] = [];
    items.forEach((item, n) => {
      const key = this.keyOf(item);
      if (firstAt.has(key)) return;
      firstAt.set(key, n);
      rows.push({ n, key, stored: { ...item, version: 1 }, ambiguous: false, exists: false });
    });
    for (let i = 0; i < rows.length; i += BATCH_WRITE_ROWS) {
      await this.ctx.client.retryRows(rows.slice(i, i + BATCH_WRITE_ROWS), async (chunk) => {
        const { value: res, ambiguous } = await this.ctx.client.call((sdk) =>
          sdk.batchWriteRow({
            tables: [
              {
                tableName: this.tableName,
                rows: chunk.map((r) => ({
                  type: 'PUT' as const,
                  condition: new Condition(RowExistenceExpectation.EXPECT_NOT_EXIST, null),
                  primaryKey: this.pk(r.key),
                  attributeColumns: this.attributes(r.stored),
                })),
              },
            ],
          }),
        );
        return chunk.map((r, n) => {
          const out = res.tables[n];
          if (ambiguous) r.ambiguous = true;
          if (out?.isOk) {
            results[r.n] = { ok: true, value: r.stored };
            return { row: r, retry: false };
          }
          if (out?.errorCode === 'OTSConditionCheckFail') {
            r.exists = true;
            return { row: r, retry: false };
          }
          if (!isRetryableRowError(out?.errorCode)) {
            throw new TablestoreError(
              out?.errorMessage ?? 'batch write failed',
              out?.errorCode ?? 'Unknown',
              undefined,
              undefined,
            );
          }
          if (isInDoubtRowError(out?.errorCode)) r.ambiguous = true;
          return { row: r, retry: true };
        });
      });
    }
    const existing = rows.filter((r) => r.exists);
    const current = await this.fetch(existing.map((r) => r.key));
    for (const r of existing) {
      const cur = current.get(r.key);
      results[r.n] =
        r.ambiguous && this.same(cur, r.stored)
          ? { ok: true, value: r.stored }
          : cur === undefined
            ? { ok: false, reason: 'exists' }
            : { ok: false, reason: 'exists', current: cur };
    }
    items.forEach((item, n) => {
      const first = firstAt.get(this.keyOf(item));
      if (first === undefined || first === n) return;
      const won = results[first];
      const cur = won?.ok ? won.value : won?.current;
      results[n] =
        cur === undefined ? { ok: false, reason: 'exists' } : { ok: false, reason: 'exists', current: cur };
    });
    return results;
  }

  /** Index key of a (prefix, sort key, id) position; 'min'/'max' stand for Tablestore's infinities. */
  private indexKey(
    ix: IndexDef,
    prefix: Scalar[],
    k: number | 'min' | 'max',
    id: string | 'min' | 'max',
  ): PkInput {
    const cols = ix.columns;
    const key: PkInput = prefix.map((v, n) => ({ [cols[n] as string]: cell(v) }));
    const sortCol = cols[cols.length - 1] as string;
    key.push({
      [sortCol]: k === 'min' ? TableStore.INF_MIN : k === 'max' ? TableStore.INF_MAX : Long.fromNumber(k),
    });
    key.push({
      [this.def.primaryKey]: id === 'min' ? TableStore.INF_MIN : id === 'max' ? TableStore.INF_MAX : id,
    });
    return key;
  }

  /** Positions in one index range, in order, reading GetRange pages on demand. */
  private async *scanRange(scan: Scan, prefix: Scalar[], pageSize: number): AsyncGenerator<Candidate> {
    const ix = scan.index;
    const { from, to, after, desc } = scan;
    if (from !== undefined && to !== undefined && from >= to) return;
    let start: PkInput;
    let end: PkInput;
    // A cursor row is looked up inclusively and skipped: GetRange has no exclusive start.
    if (!desc) {
      start =
        after !== undefined && (from === undefined || after.k >= from)
          ? this.indexKey(ix, prefix, after.k, after.i)
          : this.indexKey(ix, prefix, from ?? 'min', 'min');
      end = to === undefined ? this.indexKey(ix, prefix, 'max', 'max') : this.indexKey(ix, prefix, to, 'min');
      if (after !== undefined && to !== undefined && after.k >= to) return;
    } else {
      start =
        after !== undefined && (to === undefined || after.k < to)
          ? this.indexKey(ix, prefix, after.k, after.i)
          : to === undefined
            ? this.indexKey(ix, prefix, 'max', 'max')
            : this.indexKey(ix, prefix, to, 'min');
      end = this.indexKey(ix, prefix, from ?? 'min', 'min');
      if (after !== undefined && from !== undefined && after.k < from) return;
    }
    const sortCol = ix.columns[ix.columns.length - 1] as string;
    const tableName = physicalIndexName(ix, this.ctx.prefix);
    for (;;) {
      const res = await this.ctx.client.read((sdk) =>
        sdk.getRange({
          tableName,
          direction: desc ? TableStore.Direction.BACKWARD : TableStore.Direction.FORWARD,
          inclusiveStartPrimaryKey: start,
          exclusiveEndPrimaryKey: end,
          limit: pageSize,
          columnsToGet: [this.def.primaryKey],
        }),
      );
      for (const row of res.rows) {
        let k: number | undefined;
        let id: string | undefined;
        for (const c of row.primaryKey ?? []) {
          if (c.name === sortCol) k = plain(c.value) as number;
          if (c.name === this.def.primaryKey) id = c.value as string;
        }
        if (k === undefined || id === undefined) continue;
        if (after !== undefined && k === after.k && id === after.i) continue;
        yield { k, id };
      }
      const next = res.nextStartPrimaryKey;
      if (!next || next.length === 0) return;
      start = next.map((c) => ({ [c.name]: c.value }));
    }
  }

  /** Several ranges merged into one (sort key, id) order. */
  private async *scanMerged(scan: Scan, pageSize: number): AsyncGenerator<Candidate> {
    const iters = scan.prefixes.map((p) => this.scanRange(scan, p, pageSize));
    if (iters.length === 1) {
      yield* iters[0] as AsyncGenerator<Candidate>;
      return;
    }
    const heads = await Promise.all(iters.map((it) => it.next()));
    const before = (a: Candidate, b: Candidate) => {
      const c = a.k - b.k || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
      return scan.desc ? c > 0 : c < 0;
    };
    for (;;) {
      let best = -1;
      heads.forEach((h, n) => {
        if (h.done) return;
        const bestHead = heads[best];
        if (best < 0 || (bestHead !== undefined && !bestHead.done && before(h.value, bestHead.value)))
          best = n;
      });
      if (best < 0) return;
      const head = heads[best] as IteratorYieldResult<Candidate>;
      yield head.value;
      heads[best] = await (iters[best] as AsyncGenerator<Candidate>).next();
    }
  }

  /**
   * One page from a global index: candidates come from the index, rows from the main table, and the
   * filter is checked again on those rows, because a global index trails the table by a little.
   */
  protected async query(
    scan: Scan,
    limit: number,
    matches: (item: T) => boolean,
  ): Promise<Page<T> & { positions: Candidate[] }> {
    const pageSize = Math.min(RANGE_PAGE_MAX, Math.max(limit + 1, 16));
    const items: T[] = [];
    const positions: Candidate[] = [];
    let batch: Candidate[] = [];
    const flush = async (): Promise<void> => {
      const found = await this.fetch(batch.map((c) => c.id));
      for (const c of batch) {
        const item = found.get(c.id);
        if (item !== undefined && matches(item) && items.length <= limit) {
          items.push(item);
          positions.push(c);
        }
      }
      batch = [];
    };
    const scanner = this.scanMerged(scan, pageSize);
    try {
      for await (const c of scanner) {
        batch.push(c);
        if (batch.length >= Math.min(BATCH_GET_ROWS, limit + 1 - items.length)) await flush();
        if (items.length > limit) break;
      }
      if (batch.length > 0 && items.length <= limit) await flush();
    } finally {
      await scanner.return(undefined);
    }
    const last = positions[limit - 1];
    const page: Page<T> & { positions: Candidate[] } =
      items.length > limit && last !== undefined
        ? { items: items.slice(0, limit), cursor: encodeCursor({ k: last.k, i: last.id }), positions }
        : { items, positions };
    return page;
  }

  /** Picks the first index in `preference` whose equality columns all have values; sorted by `sortKey`. */
  protected choose(
    preference: string[],
    sortKey: string,
    eq: Record<string, Scalar | Scalar[] | undefined>,
  ): { index: IndexDef; prefixes: Scalar[][] } {
    for (const name of preference) {
      const ix = this.def.indexes.find((i) => i.name === name);
      if (ix === undefined || ix.columns[ix.columns.length - 1] !== sortKey) continue;
      const eqCols = ix.columns.slice(0, -1);
      if (!eqCols.every((c) => eq[c] !== undefined)) continue;
      let prefixes: Scalar[][] = [[]];
      for (const c of eqCols) {
        const v = eq[c] as Scalar | Scalar[];
        const values = Array.isArray(v) ? [...new Set(v)] : [v];
        prefixes = prefixes.flatMap((p) => values.map((x) => [...p, x]));
      }
      return { index: ix, prefixes };
    }
    throw new Error(`${this.def.name}: no index serves this query`);
  }

  protected async listBy(
    preference: string[],
    sortKey: string,
    eq: Record<string, Scalar | Scalar[] | undefined>,
    range: { from?: number; to?: number },
    page: PageRequest | undefined,
    matches: (item: T) => boolean,
  ): Promise<Page<T>> {
    const limit = clampLimit(page?.limit);
    const desc = (page?.order ?? 'desc') === 'desc';
    const after = decodeCursor(page?.cursor);
    const { index, prefixes } = this.choose(preference, sortKey, eq);
    if (prefixes.length === 0) return { items: [] };
    const res = await this.query(
      { index, prefixes, from: range.from, to: range.to, desc, after },
      limit,
      matches,
    );
    return res.cursor === undefined ? { items: res.items } : { items: res.items, cursor: res.cursor };
  }
}
