import type { Value } from './plainbuffer.js';
import { invalid } from './errors.js';

/** Row and schema shapes, key order, and rows kept sorted by key. */

export type PkType = 'INTEGER' | 'STRING' | 'BINARY';
export type ColumnType = 'INTEGER' | 'DOUBLE' | 'BOOLEAN' | 'STRING' | 'BLOB';

export interface IndexSchema {
  name: string;
  /** As requested; the main table's primary key columns not in it are appended. */
  primaryKey: string[];
  definedColumn: string[];
  fullKey: string[];
}

export interface TableSchema {
  name: string;
  primaryKey: { name: string; type: PkType }[];
  definedColumn: { name: string; type: ColumnType }[];
  timeToLive: number;
  maxVersions: number;
}

export interface StoredAttr {
  value: Value;
  timestamp: bigint;
}

export interface StoredRow {
  pk: Value[];
  attrs: Map<string, StoredAttr>;
  writtenAt: number;
}

export function compareValues(a: Value, b: Value): number {
  if (a.type === 'inf_min') return b.type === 'inf_min' ? 0 : -1;
  if (a.type === 'inf_max') return b.type === 'inf_max' ? 0 : 1;
  if (b.type === 'inf_min') return 1;
  if (b.type === 'inf_max') return -1;
  if (a.type === 'integer' && b.type === 'integer') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  if (a.type === 'string' && b.type === 'string') {
    if (a.value === b.value) return 0;
    // Tablestore orders strings by their UTF-8 bytes.
    return Buffer.compare(Buffer.from(a.value, 'utf8'), Buffer.from(b.value, 'utf8'));
  }
  if (a.type === 'binary' && b.type === 'binary') return Buffer.compare(a.value, b.value);
  if (a.type === 'double' && b.type === 'double') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  if (a.type === 'boolean' && b.type === 'boolean') return Number(a.value) - Number(b.value);
  throw invalid(`cannot compare ${a.type} with ${b.type}`);
}

export function compareKeys(a: Value[], b: Value[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const c = compareValues(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

/** Rows kept sorted by key; binary search for point and range access. */
export class SortedRows {
  readonly rows: StoredRow[] = [];

  /** Index of the first row with key >= `key`. */
  lowerBound(key: Value[]): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys((this.rows[mid] as StoredRow).pk, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(key: Value[]): StoredRow | undefined {
    const i = this.lowerBound(key);
    const row = this.rows[i];
    return row !== undefined && compareKeys(row.pk, key) === 0 ? row : undefined;
  }

  put(row: StoredRow): void {
    const i = this.lowerBound(row.pk);
    const at = this.rows[i];
    if (at !== undefined && compareKeys(at.pk, row.pk) === 0) this.rows[i] = row;
    else this.rows.splice(i, 0, row);
  }

  remove(key: Value[]): void {
    const i = this.lowerBound(key);
    const at = this.rows[i];
    if (at !== undefined && compareKeys(at.pk, key) === 0) this.rows.splice(i, 1);
  }
}
