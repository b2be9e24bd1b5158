import type { CopyExpiry } from '../../domain/copies.js';
import type { CopyExpiryCollection, Page } from '../../ports/store.js';
import { MAX_HOT_LIMIT, clampLimit, decodeCursor } from '../store-paging.js';
import { SqliteCollection, toPage } from './collection.js';

/** Copy retention's query, exported so a test can check with EXPLAIN QUERY PLAN that it uses its index. */
export const DUE_COPIES_SQL = `SELECT doc FROM copy_expiries WHERE expireAt <= ? ORDER BY expireAt ASC, id ASC LIMIT ?`;
export const DUE_COPIES_AFTER_SQL = `SELECT doc FROM copy_expiries WHERE expireAt <= ? AND (expireAt, id) > (?, ?) ORDER BY expireAt ASC, id ASC LIMIT ?`;

export class SqliteCopyExpiries extends SqliteCollection<CopyExpiry> implements CopyExpiryCollection {
  async due(now: number, limit: number, cursor?: string): Promise<Page<CopyExpiry>> {
    const n = clampLimit(limit, MAX_HOT_LIMIT);
    const after = decodeCursor(cursor);
    const rows =
      after === undefined
        ? this.sql.items<CopyExpiry>(DUE_COPIES_SQL, [now, n + 1])
        : this.sql.items<CopyExpiry>(DUE_COPIES_AFTER_SQL, [now, after.k, after.i, n + 1]);
    return toPage(rows, n, 'expireAt', 'id');
  }
}
