import Database from 'better-sqlite3';
import { TABLES, EXPIRY_BUCKET_ELIGIBLE, columnValues, type TableDef } from '../../schema/tables.js';
import type { BackupPoint, ExportRecord, Job, Plan, ProtectedInstance } from '../../domain/model.js';
import type { Delivery, Subscription } from '../../domain/notifications.js';
import type { ProtectionRule } from '../../domain/protection-rule.js';
import type { Clock } from '../../ports/clock.js';
import type {
  DeliveryCollection,
  ExportCollection,
  ExportFilter,
  IdempotencyCollection,
  IdempotencyRecord,
  JobCollection,
  JobFilter,
  Page,
  PageRequest,
  PlanCollection,
  PlanFilter,
  PointCollection,
  PointFilter,
  ProtectedInstanceCollection,
  ProtectionRuleCollection,
  Store,
  SubscriptionCollection,
  WriteResult,
} from '../../ports/store.js';
import { SystemClock } from '../system.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { MAX_HOT_LIMIT, clampLimit, decodeCursor, encodeCursor } from '../store-paging.js';

export interface SqliteStoreOptions {
  /**
   * `FULL` (default) fsyncs the WAL on every commit, so a committed job step survives a power cut, not
   * only a process crash. Our writes are a few per job step, so the fsync cost does not matter; losing
   * the record of a snapshot that was already taken would. `NORMAL` is for tests and benchmarks.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a writer waits for another connection's lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /**
   * Page cache of this connection. SQLite's default (2 MB) makes a scan of thousands of expired
   * points read most pages through the OS; 32 MB keeps the hot indexes in memory.
   */
  cacheSizeMb?: number;
  /**
   * Memory-mapped reads (default 1024 MB of address space, not memory): rows fetched by the hot
   * queries are scattered over the table, and reading them through the OS page cache without a
   * system call per page halves the time of a 10,000-point expiry scan. 0 turns it off.
   */
  mmapSizeMb?: number;
  /** Stamps `schema_migrations.appliedAt`. */
  clock?: Clock;
}

/** Store plus bulk creation, used to seed and to import rows from another store. */
export interface SqliteStore extends Store {
  plans: PlanCollection & BulkCreate<Plan>;
  jobs: JobCollection & BulkCreate<Job>;
  points: PointCollection & BulkCreate<BackupPoint>;
  instances: ProtectedInstanceCollection & BulkCreate<ProtectedInstance>;
  exports: ExportCollection & BulkCreate<ExportRecord>;
  /** The underlying connection, for diagnostics and schema checks. */
  readonly db: Database.Database;
}

export interface BulkCreate<T> {
  /** Create-if-absent for each item, all in one transaction; one result per item, in order. */
  createMany(items: T[]): Promise<WriteResult<T>[]>;
}

type Row = { version: number; doc: string };
type Versioned = { version: number };

export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
  const db = new Database(path);
  try {
    // WAL lets readers (API) run while a writer (worker) commits, across processes too.
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    db.pragma(`cache_size = ${-1024 * Math.max(1, Math.floor(opts.cacheSizeMb ?? 32))}`);
    db.pragma(`mmap_size = ${1024 * 1024 * Math.max(0, Math.floor(opts.mmapSizeMb ?? 1024))}`);
    migrate(db, opts.clock ?? new SystemClock());
  } catch (err) {
    db.close();
    throw err;
  }
  const sql = new StatementCache(db);
  const plans = new SqlitePlans(db, sql, TABLES.plans);
  const jobs = new SqliteJobs(db, sql, TABLES.jobs);
  const points = new SqlitePoints(db, sql, TABLES.points);
  const instances = new SqliteInstances(db, sql, TABLES.instances);
  const exports = new SqliteExports(db, sql, TABLES.exports);
  const idempotency = new SqliteIdempotency(sql);
  const subscriptions = new SqliteSubscriptions(db, sql, TABLES.subscriptions);
  const deliveries = new SqliteDeliveries(db, sql, TABLES.deliveries);
  const protectionRules = new SqliteProtectionRules(db, sql, TABLES.protectionRules);
  return {
    db,
    plans,
    jobs,
    points,
    instances,
    exports,
    idempotency,
    subscriptions,
    deliveries,
    protectionRules,
    async close() {
      if (db.open) db.close();
    },
  };
}

/** Applies pending migrations; refuses a database written by a newer version of the code. */
export function migrate(
  db: Database.Database,
  clock: Clock,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, appliedAt INTEGER NOT NULL) STRICT',
  );
  const apply = db.transaction(() => {
    const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
    const current = row.v ?? 0;
    const known = migrations.reduce((max, m) => Math.max(max, m.version), 0);
    if (current > known) {
      throw new Error(`database schema version ${current} is newer than this program knows (${known})`);
    }
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, appliedAt) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        clock.now(),
      );
      applied.push(m.version);
    }
    return applied;
  });
  // IMMEDIATE takes the write lock first, so two processes starting together do not both migrate.
  return apply.immediate();
}

class StatementCache {
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

interface Where {
  clauses: string[];
  params: unknown[];
}

function where(): Where {
  return { clauses: [], params: [] };
}

function eq(w: Where, column: string, value: string | number | undefined): void {
  if (value === undefined) return;
  w.clauses.push(`${column} = ?`);
  w.params.push(value);
}

function oneOf(w: Where, column: string, value: string | string[] | undefined): boolean {
  if (value === undefined) return true;
  const values = Array.isArray(value) ? [...new Set(value)] : [value];
  if (values.length === 0) return false;
  w.clauses.push(
    values.length === 1 ? `${column} = ?` : `${column} IN (${values.map(() => '?').join(', ')})`,
  );
  w.params.push(...values);
  return true;
}

function range(w: Where, column: string, from: number | undefined, to: number | undefined): void {
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

abstract class SqliteCollection<T extends Versioned> {
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
function toPage<T extends Versioned>(rows: T[], limit: number, sortKey: string, pk: string): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  // The sort key and id columns hold the same values as these fields of the document.
  const last = items[limit - 1] as Record<string, unknown>;
  return { items, cursor: encodeCursor({ k: last[sortKey] as number, i: last[pk] as string }) };
}

const EMPTY: Page<never> = { items: [] };

class SqlitePlans extends SqliteCollection<Plan> implements PlanCollection {
  async list(filter: PlanFilter, page?: PageRequest): Promise<Page<Plan>> {
    const w = where();
    eq(w, 'instanceId', filter.instanceId);
    eq(w, 'state', filter.state);
    return this.listWhere(w, 'createdAt', page);
  }

  async dueBefore(before: number, limit: number): Promise<Plan[]> {
    return this.sql.items<Plan>(DUE_SQL, [before, clampLimit(limit, MAX_HOT_LIMIT)]);
  }
}

class SqliteJobs extends SqliteCollection<Job> implements JobCollection {
  async list(filter: JobFilter, page?: PageRequest): Promise<Page<Job>> {
    const w = where();
    eq(w, 'type', filter.type);
    if (!oneOf(w, 'status', filter.status)) return EMPTY;
    eq(w, 'instanceId', filter.instanceId);
    eq(w, 'planId', filter.planId);
    range(w, 'createdAt', filter.from, filter.to);
    return this.listWhere(w, 'createdAt', page);
  }
}

class SqlitePoints extends SqliteCollection<BackupPoint> implements PointCollection {
  async list(filter: PointFilter, page?: PageRequest): Promise<Page<BackupPoint>> {
    const w = where();
    eq(w, 'instanceId', filter.instanceId);
    eq(w, 'planId', filter.planId);
    if (!oneOf(w, 'status', filter.status)) return EMPTY;
    range(w, 'completedAt', filter.from, filter.to);
    return this.listWhere(w, 'completedAt', page);
  }

  async expired(now: number, limit: number, cursor?: string): Promise<Page<BackupPoint>> {
    const n = clampLimit(limit, MAX_HOT_LIMIT);
    const after = decodeCursor(cursor);
    const rows =
      after === undefined
        ? this.sql.items<BackupPoint>(EXPIRED_SQL, [EXPIRY_BUCKET_ELIGIBLE, now, n + 1])
        : this.sql.items<BackupPoint>(EXPIRED_AFTER_SQL, [
            EXPIRY_BUCKET_ELIGIBLE,
            now,
            after.k,
            after.i,
            n + 1,
          ]);
    return toPage(rows, n, 'effectiveExpireAt', 'id');
  }
}

class SqliteInstances extends SqliteCollection<ProtectedInstance> implements ProtectedInstanceCollection {
  async list(page?: PageRequest): Promise<Page<ProtectedInstance>> {
    return this.listWhere(where(), 'createdAt', page);
  }

  async listByRule(ruleId: string, page?: PageRequest): Promise<Page<ProtectedInstance>> {
    const w = where();
    eq(w, 'ruleId', ruleId);
    return this.listWhere(w, 'createdAt', page);
  }
}

class SqliteExports extends SqliteCollection<ExportRecord> implements ExportCollection {
  async list(filter: ExportFilter, page?: PageRequest): Promise<Page<ExportRecord>> {
    const w = where();
    eq(w, 'backupId', filter.backupId);
    eq(w, 'instanceId', filter.instanceId);
    return this.listWhere(w, 'createdAt', page);
  }
}

class SqliteSubscriptions extends SqliteCollection<Subscription> implements SubscriptionCollection {
  async list(page?: PageRequest): Promise<Page<Subscription>> {
    return this.listWhere(where(), 'createdAt', page);
  }
}

class SqliteDeliveries extends SqliteCollection<Delivery> implements DeliveryCollection {
  async list(subscriptionId: string, page?: PageRequest): Promise<Page<Delivery>> {
    const w = where();
    eq(w, 'subscriptionId', subscriptionId);
    return this.listWhere(w, 'createdAt', page);
  }
}

class SqliteProtectionRules extends SqliteCollection<ProtectionRule> implements ProtectionRuleCollection {
  async list(page?: PageRequest): Promise<Page<ProtectionRule>> {
    return this.listWhere(where(), 'createdAt', page);
  }
}

/** How many expired idempotency rows one write purges; keeps every write cheap. */
const IDEMPOTENCY_PURGE_BATCH = 100;

class SqliteIdempotency implements IdempotencyCollection {
  constructor(private readonly sql: StatementCache) {}

  async put(record: IdempotencyRecord): Promise<WriteResult<IdempotencyRecord>> {
    this.sql
      .get(
        'DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency WHERE expireAt <= ? ORDER BY expireAt LIMIT ?)',
      )
      .run(record.createdAt, IDEMPOTENCY_PURGE_BATCH);
    // A stored record past its expiry counts as absent, as it would once Tablestore's TTL dropped it.
    const info = this.sql
      .get(
        `INSERT INTO idempotency (key, version, doc, expireAt) VALUES (?, 1, ?, ?)
         ON CONFLICT (key) DO UPDATE SET doc = excluded.doc, expireAt = excluded.expireAt, version = 1
         WHERE idempotency.expireAt <= ?`,
      )
      .run(record.key, JSON.stringify(record), record.expireAt, record.createdAt);
    if (info.changes === 1) return { ok: true, value: { ...record } };
    return { ok: false, reason: 'exists', current: await this.get(record.key) };
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const row = this.sql.get('SELECT doc FROM idempotency WHERE key = ?').get(key) as
      { doc: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.doc) as IdempotencyRecord);
  }
}

/** The hot queries, exported so a test can check with EXPLAIN QUERY PLAN that they use their index. */
export const DUE_SQL = `SELECT doc FROM plans WHERE state = 'ACTIVE' AND nextRunAt <= ? ORDER BY nextRunAt ASC, id ASC LIMIT ?`;
export const EXPIRED_SQL = `SELECT doc FROM points WHERE expiryBucket = ? AND effectiveExpireAt <= ? ORDER BY effectiveExpireAt ASC, id ASC LIMIT ?`;
export const EXPIRED_AFTER_SQL = `SELECT doc FROM points WHERE expiryBucket = ? AND effectiveExpireAt <= ? AND (effectiveExpireAt, id) > (?, ?) ORDER BY effectiveExpireAt ASC, id ASC LIMIT ?`;
