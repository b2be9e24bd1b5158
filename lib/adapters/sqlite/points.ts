import { EXPIRY_BUCKET_ELIGIBLE, EXPIRY_BUCKET_LOCKED } from '../../schema/tables.js';
import type { BackupPoint } from '../../domain/model.js';
import type { Page, PageRequest, PointCollection, PointFilter } from '../../ports/store.js';
import { MAX_HOT_LIMIT, clampLimit, decodeCursor } from '../store-paging.js';
import { EMPTY, SqliteCollection, eq, oneOf, range, toPage, where } from './collection.js';

/**
 * Retention's hot queries, exported so a test can check with EXPLAIN QUERY PLAN that they use their
 * index. `expired` reads both buckets (unlocked and locked) as two ranges merged in index order.
 */
const EXPIRED_RANGE = `SELECT doc, effectiveExpireAt, id FROM points WHERE expiryBucket = ? AND effectiveExpireAt <= ?`;
const AFTER = ` AND (effectiveExpireAt, id) > (?, ?)`;
const IN_ORDER = ` ORDER BY effectiveExpireAt ASC, id ASC LIMIT ?`;
export const EXPIRED_SQL = `${EXPIRED_RANGE} UNION ALL ${EXPIRED_RANGE}${IN_ORDER}`;
export const EXPIRED_AFTER_SQL = `${EXPIRED_RANGE}${AFTER} UNION ALL ${EXPIRED_RANGE}${AFTER}${IN_ORDER}`;
export const LOCKED_SQL = `SELECT doc FROM points WHERE expiryBucket = ? AND effectiveExpireAt > ?${IN_ORDER}`;
export const LOCKED_AFTER_SQL = `SELECT doc FROM points WHERE expiryBucket = ? AND effectiveExpireAt > ?${AFTER}${IN_ORDER}`;

export class SqlitePoints extends SqliteCollection<BackupPoint> implements PointCollection {
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
        ? this.sql.items<BackupPoint>(EXPIRED_SQL, [
            EXPIRY_BUCKET_ELIGIBLE,
            now,
            EXPIRY_BUCKET_LOCKED,
            now,
            n + 1,
          ])
        : this.sql.items<BackupPoint>(EXPIRED_AFTER_SQL, [
            EXPIRY_BUCKET_ELIGIBLE,
            now,
            after.k,
            after.i,
            EXPIRY_BUCKET_LOCKED,
            now,
            after.k,
            after.i,
            n + 1,
          ]);
    return toPage(rows, n, 'effectiveExpireAt', 'id');
  }

  async locked(now: number, limit: number, cursor?: string): Promise<Page<BackupPoint>> {
    const n = clampLimit(limit, MAX_HOT_LIMIT);
    const after = decodeCursor(cursor);
    const rows =
      after === undefined
        ? this.sql.items<BackupPoint>(LOCKED_SQL, [EXPIRY_BUCKET_LOCKED, now, n + 1])
        : this.sql.items<BackupPoint>(LOCKED_AFTER_SQL, [EXPIRY_BUCKET_LOCKED, now, after.k, after.i, n + 1]);
    return toPage(rows, n, 'effectiveExpireAt', 'id');
  }
}
