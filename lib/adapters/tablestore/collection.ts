import TableStore from 'tablestore';
import { physicalIndexName, type IndexDef } from '../../schema/tables.js';
import type { Page, PageRequest } from '../../ports/store.js';
import { clampLimit, decodeCursor, encodeCursor, type CursorPosition } from '../store-paging.js';
import {
  BATCH_GET_ROWS,
  Long,
  RANGE_PAGE_MAX,
  cell,
  plain,
  type PkInput,
  type Scalar,
  type Versioned,
} from './codec.js';
import { TablestoreConditionalWrites } from './conditional-writes.js';

/**
 * A table of versioned JSON documents on Tablestore: conditional writes on the `version` column,
 * batch reads and writes within the service limits, and queries on global secondary indexes.
 * This file holds the queries and paging; writes and the row codec live beside it.
 */

export {
  ComparatorType,
  Condition,
  Long,
  RowExistenceExpectation,
  SingleColumnCondition,
  type Scalar,
  type Versioned,
} from './codec.js';
export type { Ctx } from './table.js';

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

export class TablestoreCollection<T extends Versioned> extends TablestoreConditionalWrites<T> {
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
