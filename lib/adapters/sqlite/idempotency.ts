import type { IdempotencyCollection, IdempotencyRecord, WriteResult } from '../../ports/store.js';
import type { StatementCache } from './collection.js';

/** How many expired idempotency rows one write purges; keeps every write cheap. */
const IDEMPOTENCY_PURGE_BATCH = 100;

export class SqliteIdempotency implements IdempotencyCollection {
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
