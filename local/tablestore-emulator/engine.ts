import type { Cell, PrimaryKeyColumn, Value } from './plainbuffer.js';
import { OtsError, invalid, tableMissing } from './errors.js';
import {
  SortedRows,
  type IndexSchema,
  type PkType,
  type StoredAttr,
  type StoredRow,
  type TableSchema,
} from './rows.js';

/**
 * In-memory Tablestore: tables sorted by primary key, global secondary indexes maintained on every
 * write (synchronously; the real service lags by milliseconds, which the Store adapter tolerates by
 * re-reading rows from the main table), conditional writes, ranges in both directions, table TTL.
 */

export class Table {
  readonly rows = new SortedRows();
  readonly indexes = new Map<string, { schema: IndexSchema; rows: SortedRows }>();

  constructor(
    public schema: TableSchema,
    private readonly now: () => number,
  ) {}

  isLive(row: StoredRow): boolean {
    return this.schema.timeToLive < 0 || row.writtenAt + this.schema.timeToLive * 1000 > this.now();
  }

  /** Validates a primary key against the schema; `allowInf` for range bounds. */
  checkKey(pk: PrimaryKeyColumn[], allowInf: boolean): Value[] {
    const schema = this.schema.primaryKey;
    if (pk.length !== schema.length) {
      throw invalid(`primary key of ${this.schema.name} has ${schema.length} columns, got ${pk.length}`);
    }
    return pk.map((col, i) => {
      const def = schema[i] as { name: string; type: PkType };
      if (col.name !== def.name)
        throw invalid(`primary key column ${i} must be ${def.name}, got ${col.name}`);
      const t = col.value.type;
      if (allowInf && (t === 'inf_min' || t === 'inf_max')) return col.value;
      const want = def.type === 'INTEGER' ? 'integer' : def.type === 'STRING' ? 'string' : 'binary';
      if (t !== want) throw invalid(`primary key ${def.name} must be ${def.type}, got ${t}`);
      if (col.value.type === 'string' && Buffer.byteLength(col.value.value) > 1024) {
        throw invalid(`primary key ${def.name} is longer than 1 KB`);
      }
      return col.value;
    });
  }

  getLive(key: Value[]): StoredRow | undefined {
    const row = this.rows.get(key);
    return row !== undefined && this.isLive(row) ? row : undefined;
  }

  private checkAttrTypes(attrs: Map<string, StoredAttr>): void {
    for (const def of this.schema.definedColumn) {
      const a = attrs.get(def.name);
      if (a === undefined) continue;
      const want =
        def.type === 'INTEGER'
          ? 'integer'
          : def.type === 'DOUBLE'
            ? 'double'
            : def.type === 'BOOLEAN'
              ? 'boolean'
              : def.type === 'STRING'
                ? 'string'
                : 'binary';
      if (a.value.type !== want) {
        throw invalid(`column ${def.name} is defined as ${def.type}, got ${a.value.type}`);
      }
    }
  }

  /** The new attributes after applying cells to the current ones (PutRow replaces, UpdateRow merges). */
  applyCells(
    current: StoredRow | undefined,
    cells: Cell[],
    replace: boolean,
    stamp: bigint,
  ): Map<string, StoredAttr> {
    const attrs = new Map<string, StoredAttr>(replace || current === undefined ? [] : current.attrs);
    for (const cell of cells) {
      if (Buffer.byteLength(cell.name) > 255)
        throw invalid(`column name ${cell.name.slice(0, 20)}... too long`);
      if (this.schema.primaryKey.some((p) => p.name === cell.name)) {
        throw invalid(`attribute column ${cell.name} has the name of a primary key column`);
      }
      switch (cell.op) {
        case 'put': {
          if (cell.value === undefined || cell.value.type === 'inf_min' || cell.value.type === 'inf_max') {
            throw invalid(`column ${cell.name} has no valid value`);
          }
          const size = cell.value.type === 'string' ? Buffer.byteLength(cell.value.value) : 0;
          if (size > 2 * 1024 * 1024) throw invalid(`column ${cell.name} is larger than 2 MB`);
          attrs.set(cell.name, { value: cell.value, timestamp: cell.timestamp ?? stamp });
          break;
        }
        case 'delete_one':
        case 'delete_all':
          attrs.delete(cell.name);
          break;
        case 'increment': {
          if (cell.value?.type !== 'integer') throw invalid(`increment of ${cell.name} needs an integer`);
          const before = attrs.get(cell.name)?.value;
          if (before !== undefined && before.type !== 'integer')
            throw invalid(`column ${cell.name} is not an integer`);
          const base = before?.type === 'integer' ? before.value : 0n;
          attrs.set(cell.name, {
            value: { type: 'integer', value: base + cell.value.value },
            timestamp: stamp,
          });
          break;
        }
      }
    }
    this.checkAttrTypes(attrs);
    return attrs;
  }

  write(key: Value[], attrs: Map<string, StoredAttr> | undefined): void {
    const before = this.rows.get(key);
    if (attrs === undefined) this.rows.remove(key);
    const after: StoredRow | undefined =
      attrs === undefined ? undefined : { pk: key, attrs, writtenAt: this.now() };
    if (after !== undefined) this.rows.put(after);
    for (const { schema, rows } of this.indexes.values()) {
      const oldKey = before === undefined ? undefined : this.indexKey(schema, before);
      const newKey = after === undefined ? undefined : this.indexKey(schema, after);
      if (oldKey !== undefined) rows.remove(oldKey);
      if (newKey !== undefined && after !== undefined) rows.put(this.indexRow(schema, newKey, after));
    }
  }

  /** Key of a row in an index, or undefined when a key column is missing (sparse index). */
  indexKey(schema: IndexSchema, row: StoredRow): Value[] | undefined {
    const key: Value[] = [];
    for (const col of schema.fullKey) {
      const pkPos = this.schema.primaryKey.findIndex((p) => p.name === col);
      const v = pkPos >= 0 ? row.pk[pkPos] : row.attrs.get(col)?.value;
      if (v === undefined) return undefined;
      key.push(v);
    }
    return key;
  }

  indexRow(schema: IndexSchema, key: Value[], row: StoredRow): StoredRow {
    const attrs = new Map<string, StoredAttr>();
    for (const col of schema.definedColumn) {
      const a = row.attrs.get(col);
      if (a !== undefined) attrs.set(col, a);
    }
    return { pk: key, attrs, writtenAt: row.writtenAt };
  }

  addIndex(schema: IndexSchema, includeBaseData: boolean): void {
    const rows = new SortedRows();
    if (includeBaseData) {
      for (const row of this.rows.rows) {
        const key = this.indexKey(schema, row);
        if (key !== undefined) rows.put(this.indexRow(schema, key, row));
      }
    }
    this.indexes.set(schema.name, { schema, rows });
  }
}

/** A readable view of either a table or one of its indexes, for GetRange. */
export interface RangeSource {
  keyNames: string[];
  rows: SortedRows;
  isLive(row: StoredRow): boolean;
  checkKey(pk: PrimaryKeyColumn[]): Value[];
}

export class Instance {
  readonly tables = new Map<string, Table>();

  constructor(readonly now: () => number) {}

  table(name: string): Table {
    const t = this.tables.get(name);
    if (t === undefined) throw tableMissing();
    return t;
  }

  /** A table or an index, by the name GetRange was given. */
  rangeSource(name: string): RangeSource {
    const t = this.tables.get(name);
    if (t !== undefined) {
      return {
        keyNames: t.schema.primaryKey.map((p) => p.name),
        rows: t.rows,
        isLive: (row) => t.isLive(row),
        checkKey: (pk) => t.checkKey(pk, true),
      };
    }
    for (const main of this.tables.values()) {
      const ix = main.indexes.get(name);
      if (ix === undefined) continue;
      return {
        keyNames: ix.schema.fullKey,
        rows: ix.rows,
        isLive: (row) => main.isLive(row),
        checkKey: (pk) => {
          if (pk.length !== ix.schema.fullKey.length) {
            throw invalid(
              `primary key of index ${name} has ${ix.schema.fullKey.length} columns, got ${pk.length}`,
            );
          }
          pk.forEach((c, i) => {
            if (c.name !== ix.schema.fullKey[i])
              throw invalid(`index key column ${i} must be ${ix.schema.fullKey[i]}`);
          });
          return pk.map((c) => c.value);
        },
      };
    }
    throw tableMissing();
  }

  isNameTaken(name: string): boolean {
    if (this.tables.has(name)) return true;
    for (const t of this.tables.values()) if (t.indexes.has(name)) return true;
    return false;
  }

  createTable(schema: TableSchema, indexes: Omit<IndexSchema, 'fullKey'>[]): void {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,254}$/.test(schema.name))
      throw invalid(`invalid table name ${schema.name}`);
    if (this.isNameTaken(schema.name)) {
      throw new OtsError('OTSObjectAlreadyExist', 'Requested table already exists.', 409);
    }
    if (schema.primaryKey.length < 1 || schema.primaryKey.length > 4) {
      throw invalid('a table has 1 to 4 primary key columns');
    }
    if (schema.timeToLive !== -1 && schema.timeToLive < 86_400) {
      throw invalid('time_to_live must be -1 or at least 86400 seconds');
    }
    if (indexes.length > 5) throw invalid('a table has at most 5 secondary indexes');
    if (indexes.length > 0 && schema.maxVersions !== 1)
      throw invalid('a table with indexes must keep one version');
    const table = new Table(schema, this.now);
    const names = new Set<string>();
    for (const ix of indexes) {
      if (names.has(ix.name) || this.isNameTaken(ix.name) || ix.name === schema.name) {
        throw new OtsError('OTSObjectAlreadyExist', `index ${ix.name} already exists`, 409);
      }
      names.add(ix.name);
      table.addIndex(this.checkIndex(schema, ix), false);
    }
    this.tables.set(schema.name, table);
  }

  checkIndex(schema: TableSchema, ix: Omit<IndexSchema, 'fullKey'>): IndexSchema {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,254}$/.test(ix.name)) throw invalid(`invalid index name ${ix.name}`);
    if (ix.primaryKey.length === 0) throw invalid(`index ${ix.name} has no primary key`);
    const known = (c: string) =>
      schema.primaryKey.some((p) => p.name === c) || schema.definedColumn.some((d) => d.name === c);
    for (const c of ix.primaryKey) {
      if (!known(c)) throw invalid(`index ${ix.name}: ${c} is neither a primary key nor a defined column`);
    }
    for (const c of ix.definedColumn) {
      if (!schema.definedColumn.some((d) => d.name === c))
        throw invalid(`index ${ix.name}: ${c} is not a defined column`);
    }
    const fullKey = [
      ...ix.primaryKey,
      ...schema.primaryKey.map((p) => p.name).filter((p) => !ix.primaryKey.includes(p)),
    ];
    return { ...ix, fullKey };
  }

  createIndex(tableName: string, ix: Omit<IndexSchema, 'fullKey'>, includeBaseData: boolean): void {
    const table = this.table(tableName);
    if (this.isNameTaken(ix.name))
      throw new OtsError('OTSObjectAlreadyExist', `index ${ix.name} already exists`, 409);
    if (table.indexes.size >= 5) throw invalid('a table has at most 5 secondary indexes');
    table.addIndex(this.checkIndex(table.schema, ix), includeBaseData);
  }

  dropIndex(tableName: string, indexName: string): void {
    const table = this.table(tableName);
    if (!table.indexes.delete(indexName)) throw tableMissing();
  }

  deleteTable(name: string): void {
    if (!this.tables.delete(name)) throw tableMissing();
  }
}
