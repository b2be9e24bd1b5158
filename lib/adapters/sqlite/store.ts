import Database from 'better-sqlite3';
import { TABLES } from '../../schema/tables.js';
import type { BackupPoint, ExportRecord, Job, Plan, ProtectedInstance } from '../../domain/model.js';
import type { Clock } from '../../ports/clock.js';
import type {
  ExportCollection,
  JobCollection,
  PlanCollection,
  PointCollection,
  ProtectedInstanceCollection,
  Store,
  WriteResult,
} from '../../ports/store.js';
import { SystemClock } from '../system.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { StatementCache } from './collection.js';
import { SqliteDeliveries } from './deliveries.js';
import { SqliteExports } from './exports.js';
import { SqliteIdempotency } from './idempotency.js';
import { SqliteInstances } from './instances.js';
import { SqliteJobs } from './jobs.js';
import { SqlitePlans } from './plans.js';
import { SqlitePoints } from './points.js';
import { SqliteProtectionRules } from './protection-rules.js';
import { SqliteCopyExpiries } from './copy-expiries.js';
import { SqliteSubscriptions } from './subscriptions.js';

export { listSql } from './collection.js';
export { DUE_SQL } from './plans.js';
export { EXPIRED_AFTER_SQL, EXPIRED_SQL, LOCKED_AFTER_SQL, LOCKED_SQL } from './points.js';
export { DUE_COPIES_AFTER_SQL, DUE_COPIES_SQL } from './copy-expiries.js';

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
  const copyExpiries = new SqliteCopyExpiries(db, sql, TABLES.copyExpiries);
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
    copyExpiries,
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
