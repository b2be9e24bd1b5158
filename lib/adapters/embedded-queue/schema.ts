import type Database from 'better-sqlite3';

/**
 * Versioned migrations of the queue tables. The version lives in its own table, not in
 * `PRAGMA user_version`, so the queue can share a database file with other stores.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE queue_message (
     seq INTEGER PRIMARY KEY,
     queue TEXT NOT NULL,
     message_id TEXT NOT NULL,
     body TEXT NOT NULL,
     enqueued_at INTEGER NOT NULL,
     visible_at INTEGER NOT NULL,
     receive_count INTEGER NOT NULL DEFAULT 0,
     receipt TEXT
   );
   CREATE INDEX queue_message_ready ON queue_message (queue, visible_at, seq);`,
  // Who received the message (see lease.ts), so a dead holder's messages are released at once.
  `ALTER TABLE queue_message ADD COLUMN lease_owner TEXT;`,
];

export function migrateQueueSchema(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS queue_schema (version INTEGER NOT NULL)');
  const migrate = db.transaction(() => {
    const row = db.prepare('SELECT version FROM queue_schema').get() as { version: number } | undefined;
    let version = row?.version ?? 0;
    if (row === undefined) db.prepare('INSERT INTO queue_schema (version) VALUES (0)').run();
    if (version > MIGRATIONS.length) {
      throw new Error(`queue schema version ${version} is newer than this code (${MIGRATIONS.length})`);
    }
    for (; version < MIGRATIONS.length; version += 1) db.exec(MIGRATIONS[version] as string);
    db.prepare('UPDATE queue_schema SET version = ?').run(version);
  });
  // IMMEDIATE: two processes opening a fresh file at once must not both run the first migration.
  migrate.immediate();
}
