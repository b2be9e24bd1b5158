import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TABLE_LIST, TABLES, indexKeyColumns, ttlIndexName, type TableDef } from '../../lib/schema/tables.js';
import { MIGRATIONS, migrate, openSqliteStore } from '../../lib/adapters/sqlite/index.js';
import {
  DUE_COPIES_AFTER_SQL,
  DUE_COPIES_SQL,
  DUE_SQL,
  EXPIRED_AFTER_SQL,
  EXPIRED_SQL,
  LOCKED_AFTER_SQL,
  LOCKED_SQL,
  listSql,
} from '../../lib/adapters/sqlite/store.js';
import { ManualClock } from '../support/clock.js';

interface IndexShape {
  name: string;
  table: string;
  columns: string[];
  partial: boolean;
}

function indexesInDb(db: Database.Database): IndexShape[] {
  const rows = db
    .prepare(
      "SELECT name, tbl_name AS tbl, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name != 'schema_migrations'",
    )
    .all() as { name: string; tbl: string; sql: string }[];
  return rows
    .map((r) => ({
      name: r.name,
      table: r.tbl,
      columns: (
        db.prepare(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`).all(r.name) as { name: string }[]
      ).map((c) => c.name),
      partial: /\bWHERE\b/i.test(r.sql),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** What infra/tables.ts says the indexes must be. */
function indexesFromDefinition(): IndexShape[] {
  const out: IndexShape[] = [];
  for (const t of TABLE_LIST) {
    for (const ix of t.indexes) {
      out.push({
        name: ix.name,
        table: t.name,
        columns: indexKeyColumns(t, ix),
        partial: ix.columns.some((c) => t.columns[c]?.nullable === true),
      });
    }
    if (t.ttl)
      out.push({ name: ttlIndexName(t), table: t.name, columns: [t.ttl.expireColumn], partial: false });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function plan(db: Database.Database, sql: string, params: unknown[]): string {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
  return rows.map((r) => r.detail).join(' | ');
}

describe('SQLite schema matches infra/tables.ts', () => {
  let db: Database.Database;

  beforeEach(() => {
    db = new Database(':memory:');
    migrate(db, new ManualClock(1_000));
  });

  afterEach(() => {
    db.close();
  });

  it('creates exactly the indexes the table definitions name, with the id as tie-breaker', () => {
    expect(indexesInDb(db)).toEqual(indexesFromDefinition());
  });

  it('creates each table with its key, version, doc and indexed columns, nullable only where defined', () => {
    for (const t of TABLE_LIST) {
      const cols = db
        .prepare(`SELECT name, type, "notnull" AS nn, pk FROM pragma_table_info(?)`)
        .all(t.name) as {
        name: string;
        type: string;
        nn: number;
        pk: number;
      }[];
      const expected = [
        { name: t.primaryKey, type: 'TEXT', nn: 1, pk: 1 },
        { name: 'version', type: 'INTEGER', nn: 1, pk: 0 },
        { name: 'doc', type: 'TEXT', nn: 1, pk: 0 },
        ...Object.entries((t as TableDef).columns).map(([name, def]) => ({
          name,
          type: def.type === 'string' ? 'TEXT' : 'INTEGER',
          nn: def.nullable ? 0 : 1,
          pk: 0,
        })),
      ];
      expect(cols, t.name).toEqual(expected);
    }
  });

  it('respects the Tablestore limit of global indexes per table', () => {
    for (const t of TABLE_LIST) expect(t.indexes.length).toBeLessThanOrEqual(5);
  });

  it('records each migration once and does not apply it again', () => {
    expect(migrate(db, new ManualClock(2_000))).toEqual([]);
    const rows = db.prepare('SELECT version, appliedAt FROM schema_migrations').all();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, appliedAt: 1_000 })));
  });

  it('migration 6 indexes the copies and locks recorded before it', () => {
    const old = new Database(':memory:');
    try {
      migrate(
        old,
        new ManualClock(1_000),
        MIGRATIONS.filter((m) => m.version < 6),
      );
      const insert = old.prepare(
        'INSERT INTO points (id, version, doc, instanceId, status, completedAt, expiryBucket, effectiveExpireAt) VALUES (?, 1, ?, ?, ?, 0, ?, ?)',
      );
      const copy = (regionId: string, status: string, expireAt: number) => ({ regionId, status, expireAt });
      insert.run(
        'bp-a',
        JSON.stringify({
          id: 'bp-a',
          lock: { mode: 'compliance' },
          copies: [copy('cn-shanghai', 'available', 500), copy('cn-beijing', 'failed', 0)],
        }),
        'i-1',
        'AVAILABLE',
        'eligible',
        900,
      );
      insert.run(
        'bp-b',
        JSON.stringify({ id: 'bp-b', copies: [copy('cn-shanghai', 'delete_failed', 300)] }),
        'i-1',
        'DELETED',
        null,
        100,
      );
      insert.run('bp-c', JSON.stringify({ id: 'bp-c' }), 'i-1', 'AVAILABLE', 'eligible', 200);
      expect(migrate(old, new ManualClock(2_000))).toEqual([6]);
      const rows = old.prepare('SELECT id, expireAt, doc FROM copy_expiries ORDER BY id').all() as {
        id: string;
        expireAt: number;
        doc: string;
      }[];
      expect(rows.map((r) => [r.id, r.expireAt])).toEqual([
        ['bp-a@cn-shanghai', 500],
        ['bp-b@cn-shanghai', 300],
      ]);
      expect(JSON.parse(rows[0]!.doc)).toEqual({
        id: 'bp-a@cn-shanghai',
        pointId: 'bp-a',
        regionId: 'cn-shanghai',
        expireAt: 500,
        version: 1,
      });
      const buckets = old.prepare('SELECT id, expiryBucket AS b FROM points ORDER BY id').all();
      expect(buckets).toEqual([
        { id: 'bp-a', b: 'locked' },
        { id: 'bp-b', b: null },
        { id: 'bp-c', b: 'eligible' },
      ]);
    } finally {
      old.close();
    }
  });

  it('refuses a database written by a newer schema', () => {
    db.prepare('INSERT INTO schema_migrations (version, name, appliedAt) VALUES (?, ?, ?)').run(
      999,
      'future',
      1,
    );
    expect(() => migrate(db, new ManualClock(3_000))).toThrow(/newer/);
  });

  it('serves the hot queries from their index, in index order (no sort step)', () => {
    const due = plan(db, DUE_SQL, [0, 10]);
    expect(due).toContain('USING INDEX plans_due');
    expect(due).not.toContain('TEMP B-TREE');

    for (const [sql, params] of [
      [EXPIRED_SQL, ['eligible', 0, 'locked', 0, 10]],
      [EXPIRED_AFTER_SQL, ['eligible', 0, 0, 'x', 'locked', 0, 0, 'x', 10]],
      [LOCKED_SQL, ['locked', 0, 10]],
      [LOCKED_AFTER_SQL, ['locked', 0, 0, 'x', 10]],
    ] as const) {
      const p = plan(db, sql, [...params]);
      expect(p).toContain('USING INDEX points_expiry');
      expect(p).not.toContain('TEMP B-TREE');
    }
    for (const [sql, params] of [
      [DUE_COPIES_SQL, [0, 10]],
      [DUE_COPIES_AFTER_SQL, [0, 0, 'x', 10]],
    ] as const) {
      const p = plan(db, sql, [...params]);
      expect(p).toContain('INDEX copy_expiries_due');
      expect(p).not.toContain('TEMP B-TREE');
    }
  });

  it('serves each single-filter list from the matching index in both orders, with a cursor', () => {
    const shapes: [TableDef, string[], string, string][] = [
      [TABLES.points as TableDef, ['instanceId = ?'], 'completedAt', 'points_by_instance'],
      [TABLES.points as TableDef, ['planId = ?'], 'completedAt', 'points_by_plan'],
      [TABLES.points as TableDef, ['status = ?'], 'completedAt', 'points_by_status'],
      [TABLES.points as TableDef, [], 'completedAt', 'points_by_completed'],
      [TABLES.jobs as TableDef, ['status = ?'], 'createdAt', 'jobs_by_status'],
      [TABLES.jobs as TableDef, ['type = ?'], 'createdAt', 'jobs_by_type'],
      [TABLES.jobs as TableDef, ['instanceId = ?'], 'createdAt', 'jobs_by_instance'],
      [TABLES.jobs as TableDef, ['planId = ?'], 'createdAt', 'jobs_by_plan'],
      [TABLES.jobs as TableDef, [], 'createdAt', 'jobs_by_created'],
      [TABLES.plans as TableDef, ['instanceId = ?'], 'createdAt', 'plans_by_instance'],
      [TABLES.plans as TableDef, ['state = ?'], 'createdAt', 'plans_by_state'],
      [TABLES.plans as TableDef, [], 'createdAt', 'plans_by_created'],
      [TABLES.instances as TableDef, [], 'createdAt', 'instances_by_created'],
      [TABLES.exports as TableDef, ['backupId = ?'], 'createdAt', 'exports_by_backup'],
      [TABLES.exports as TableDef, ['instanceId = ?'], 'createdAt', 'exports_by_instance'],
      [TABLES.exports as TableDef, [], 'createdAt', 'exports_by_created'],
    ];
    for (const [table, clauses, sortKey, index] of shapes) {
      for (const desc of [true, false]) {
        const withCursor = [...clauses, `(${sortKey}, ${table.primaryKey}) ${desc ? '<' : '>'} (?, ?)`];
        const sql = listSql(table, withCursor, sortKey, desc);
        const params = [...clauses.map(() => 'x'), 0, 'x', 10];
        const p = plan(db, sql, params);
        expect(p, `${index} ${desc ? 'desc' : 'asc'}`).toContain(`INDEX ${index}`);
        expect(p, `${index} ${desc ? 'desc' : 'asc'}`).not.toContain('TEMP B-TREE');
      }
    }
  });
});

describe('SQLite store file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ecsb-schema-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('migrates a new file once; reopening keeps the recorded version', async () => {
    const file = path.join(dir, 'state.db');
    const first = openSqliteStore(file, { clock: new ManualClock(5) });
    await first.close();
    const second = openSqliteStore(file, { clock: new ManualClock(6) });
    try {
      expect(second.db.prepare('SELECT version, appliedAt FROM schema_migrations').all()).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version, appliedAt: 5 })),
      );
    } finally {
      await second.close();
    }
  });
});
