import Database from 'better-sqlite3';
import path from 'node:path';

export type Kind = 'instance' | 'disk' | 'snapshot' | 'group' | 'invocation' | 'token' | 'meta' | 'image';

/**
 * Write-through persistence: one row per entity holding its JSON. Everything is loaded into
 * memory at start; lookups never touch SQLite, so reads stay fast at 100,000 snapshots.
 */
export class Persistence {
  private readonly db: Database.Database;
  private readonly putStmt: Database.Statement;
  private readonly delStmt: Database.Statement;
  private readonly batchDepth = { n: 0 };

  constructor(dataDir: string) {
    this.db = new Database(path.join(dataDir, 'state.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS entity (kind TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID',
    );
    this.putStmt = this.db.prepare('INSERT OR REPLACE INTO entity (kind, id, json) VALUES (?, ?, ?)');
    this.delStmt = this.db.prepare('DELETE FROM entity WHERE kind = ? AND id = ?');
  }

  loadAll<T>(kind: Kind): T[] {
    const rows = this.db.prepare('SELECT json FROM entity WHERE kind = ?').all(kind) as { json: string }[];
    return rows.map((r) => JSON.parse(r.json) as T);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM entity').get() as { n: number }).n;
  }

  put(kind: Kind, id: string, value: unknown): void {
    this.putStmt.run(kind, id, JSON.stringify(value));
  }

  delete(kind: Kind, id: string): void {
    this.delStmt.run(kind, id);
  }

  /** Runs fn in one transaction (nested calls join the outer one). */
  batch<T>(fn: () => T): T {
    if (this.batchDepth.n > 0) return fn();
    this.batchDepth.n += 1;
    try {
      return this.db.transaction(fn)();
    } finally {
      this.batchDepth.n -= 1;
    }
  }

  close(): void {
    this.db.close();
  }
}
