import type Database from 'better-sqlite3';
import { columnValues, type TableDef } from '../../schema/tables.js';
import type { Page, PageRequest, WriteResult } from '../../ports/store.js';
import { clampLimit, decodeCursor, encodeCursor } from '../store-paging.js';

/** What every SQLite collection shares: prepared statements, filters, versioned writes, keyset paging. */

type Row = { version: number; doc: string };
export type Versioned = { version: number };

export class StatementCache {
  private readonly cache = new Map<string, Database.Statement>();
  private readonly docCache = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}
  get(text: string): Database.Statement {
    let stmt = this.cache.get(text);
    if (stmt === undefined) {
      stmt = this.db.prepare(text);
      this.cache.set(text, stmt);
    }
    return stmt;
  }

  /**
   * Items of a `SELECT doc ...` statement. The hot queries return up to 10,000 documents, and the
   * cost is in materialising them, so this path avoids every per-row allocation it can: one native
   * call returns all documents as plain strings (no iterator step or row array per row), each
   * string is released as soon as it is parsed (a young-generation GC never finds every string and
   * every item of the page alive at once), and the version is the document's own: `createSync` and
   * `update` write it into the document in the same statement as the `version` column.
   */
  items<T extends Versioned>(text: string, params: unknown[]): T[] {
    let stmt = this.docCache.get(text);
    if (stmt === undefined) {
      stmt = this.db.prepare(text).pluck(true);
      this.docCache.set(text, stmt);
    }
    const docs = stmt.all(...params) as (string | undefined)[];
    const out = new Array<T>(docs.length);
    for (let i = 0; i < docs.length; i += 1) {
      const doc = docs[i] as string;
      docs[i] = undefined;
      out[i] = JSON.parse(doc) as T;
    }
    return out;
  }
}

export interface Where {
  clauses: string[];
  params: unknown[];
}

export function where(): Where {
  return { clauses: [], params: [] };
}

export function eq(w: Where, column: string, value: string | number | undefined): void {
  if (value === undefined) return;
  w.clauses.push(`${column} = ?`);
  w.params.push(value);
}

export function oneOf(w: Where, column: string, value: string | string[] | undefined): boolean {
  if (value === undefined) return true;
  const values = Array.isArray(value) ? [...new Set(value)] : [value];
  if (values.length === 0) return false;
  w.clauses.push(
    values.length === 1 ? `${column} = ?` : `${column} IN (${values.map(() => '?').join(', ')})`,
  );
  w.params.push(...values);
  return true;
}

export function range(w: Where, column: string, from: number | undefined, to: number | undefined): void {
  if (from !== undefined) {
    w.clauses.push(`${column} >= ?`);
    w.params.push(from);
  }
  if (to !== undefined) {
    w.clauses.push(`${column} < ?`);
    w.params.push(to);
  }
}

function parseRow<T extends Versioned>(row: Row): T {
  const item = JSON.parse(row.doc) as T;
  item.version = row.version;
  return item;
}

export abstract class SqliteCollection<T extends Versioned> {
  private readonly columns: string[];
  private readonly insertSql: string;
  private readonly updateSql: string;

  constructor(
    protected readonly db: Database.Database,
    protected readonly sql: StatementCache,
    protected readonly table: TableDef<T>,
  ) {
    this.columns = Object.keys(table.columns);
    const all = [table.primaryKey, 'version', 'doc', ...this.columns];
    this.insertSql = `INSERT INTO ${table.name} (${all.join(', ')}) VALUES (${all.map(() => '?').join(', ')}) ON CONFLICT (${table.primaryKey}) DO NOTHING`;
    const sets = ['version', 'doc', ...this.columns].map((c) => `${c} = ?`).join(', ');
    this.updateSql = `UPDATE ${table.name} SET ${sets} WHERE ${table.primaryKey} = ? AND version = ?`;
  }

  protected keyOf(item: T): string {
    const key = (item as Record<string, unknown>)[this.table.primaryKey];
    if (typeof key !== 'string' || key === '') {
      throw new TypeError(`${this.table.name}: ${this.table.primaryKey} must be a non-empty string`);
    }
    return key;
  }

  private values(item: T): unknown[] {
    const cols = columnValues(this.table, item);
    return this.columns.map((c) => cols[c] ?? null);
  }

  protected getSync(id: string): T | undefined {
    const row = this.sql
      .get(`SELECT version, doc FROM ${this.table.name} WHERE ${this.table.primaryKey} = ?`)
      .get(id) as Row | undefined;
    return row === undefined ? undefined : parseRow<T>(row);
  }

  protected createSync(item: T): WriteResult<T> {
    // The document carries the version too, equal to the column: lists read it from there.
    const stored = { ...item, version: 1 };
    const info = this.sql
      .get(this.insertSql)
      .run(this.keyOf(item), 1, JSON.stringify(stored), ...this.values(stored));
    if (info.changes === 1) return { ok: true, value: stored };
    return { ok: false, reason: 'exists', current: this.getSync(this.keyOf(item)) };
  }

  async create(item: T): Promise<WriteResult<T>> {
    return this.createSync(item);
  }

  async createMany(items: T[]): Promise<WriteResult<T>[]> {
    return this.db.transaction((all: T[]) => all.map((item) => this.createSync(item)))(items);
  }

  async get(id: string): Promise<T | undefined> {
    return this.getSync(id);
  }

  async getMany(ids: string[]): Promise<T[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    // json_each keeps one prepared statement for any number of ids.
    const rows = this.sql
      .get(
        `SELECT ${this.table.primaryKey} AS i, version, doc FROM ${this.table.name} WHERE ${this.table.primaryKey} IN (SELECT value FROM json_each(?))`,
      )
      .all(JSON.stringify(unique)) as (Row & { i: string })[];
    const byId = new Map(rows.map((r) => [r.i, parseRow<T>(r)]));
    return unique.flatMap((id) => {
      const item = byId.get(id);
      return item === undefined ? [] : [item];
    });
  }

  async existing(ids: string[]): Promise<Set<string>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Set();
    const found = this.sql
      .get(
        `SELECT ${this.table.primaryKey} FROM ${this.table.name} WHERE ${this.table.primaryKey} IN (SELECT value FROM json_each(?))`,
      )
      .pluck(true)
      .all(JSON.stringify(unique)) as string[];
    return new Set(found);
  }

  async update(item: T, expectedVersion: number): Promise<WriteResult<T>> {
    const stored = { ...item, version: expectedVersion + 1 };
    const key = this.keyOf(item);
    const info = this.sql
      .get(this.updateSql)
      .run(stored.version, JSON.stringify(stored), ...this.values(stored), key, expectedVersion);
    if (info.changes === 1) return { ok: true, value: stored };
    const current = this.getSync(key);
    return current === undefined
      ? { ok: false, reason: 'not_found' }
      : { ok: false, reason: 'conflict', current };
  }

  async delete(id: string, expectedVersion?: number): Promise<WriteResult<undefined>> {
    const info =
      expectedVersion === undefined
        ? this.sql.get(`DELETE FROM ${this.table.name} WHERE ${this.table.primaryKey} = ?`).run(id)
        : this.sql
            .get(`DELETE FROM ${this.table.name} WHERE ${this.table.primaryKey} = ? AND version = ?`)
            .run(id, expectedVersion);
    if (info.changes === 1) return { ok: true, value: undefined };
    const current = this.getSync(id);
    if (current === undefined) return { ok: false, reason: 'not_found' };
    // The port types `current` as the collection's row type for every outcome; a delete has none to give.
    return { ok: false, reason: 'conflict' };
  }

  /** Keyset paging on (sortKey, primary key): stable under inserts, unlike OFFSET. */
  protected listWhere(w: Where, sortKey: string, page: PageRequest | undefined): Page<T> {
    const limit = clampLimit(page?.limit);
    const desc = (page?.order ?? 'desc') === 'desc';
    const after = decodeCursor(page?.cursor);
    const clauses = [...w.clauses];
    const params = [...w.params];
    const pk = this.table.primaryKey;
    if (after !== undefined) {
      clauses.push(`(${sortKey}, ${pk}) ${desc ? '<' : '>'} (?, ?)`);
      params.push(after.k, after.i);
    }
    const items = this.sql.items<T>(listSql(this.table, clauses, sortKey, desc), [...params, limit + 1]);
    return toPage(items, limit, sortKey, pk);
  }
}

/** Exported so a test can check with EXPLAIN QUERY PLAN that each list shape is served by an index. */
export function listSql(table: TableDef, clauses: string[], sortKey: string, desc: boolean): string {
  const dir = desc ? 'DESC' : 'ASC';
  const pk = table.primaryKey;
  return (
    `SELECT doc FROM ${table.name}` +
    (clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : '') +
    ` ORDER BY ${sortKey} ${dir}, ${pk} ${dir} LIMIT ?`
  );
}

/** `rows` holds up to limit + 1 items; the extra one only says there is more. */
export function toPage<T extends Versioned>(rows: T[], limit: number, sortKey: string, pk: string): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  // The sort key and id columns hold the same values as these fields of the document.
  const last = items[limit - 1] as Record<string, unknown>;
  return { items, cursor: encodeCursor({ k: last[sortKey] as number, i: last[pk] as string }) };
}

export const EMPTY: Page<never> = { items: [] };
