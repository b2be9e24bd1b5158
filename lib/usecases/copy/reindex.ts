import { isPresent } from '../../domain/copies.js';
import type { Store } from '../../ports/store.js';
import { indexCopyExpiry } from './point-copies.js';

export interface ReindexReport {
  points: number;
  copiesIndexed: number;
  lockedRewritten: number;
}

/**
 * Brings the rows written before copy expiries and the locked range of the expiry index existed up
 * to date: an expiry row for every copy present, and every locked backup rewritten as it is, so the
 * store puts it in the locked range. SQLite's migration 6 does this itself; a Tablestore deployment
 * upgraded in place gets it from `npm run infra:provision`. Reads every backup once; safe to run
 * again (a row is never moved later; a rewrite changes nothing but the version, conditionally, and a
 * backup that changed meanwhile was rewritten by that change).
 */
export async function reindexCopiesAndLocks(store: Store): Promise<ReindexReport> {
  const report: ReindexReport = { points: 0, copiesIndexed: 0, lockedRewritten: 0 };
  let cursor: string | undefined;
  do {
    const page = await store.points.list({}, { limit: 500, cursor, order: 'asc' });
    cursor = page.cursor;
    for (const point of page.items) {
      report.points += 1;
      for (const copy of (point.copies ?? []).filter(isPresent)) {
        await indexCopyExpiry({ store }, point.id, copy.regionId, copy.expireAt);
        report.copiesIndexed += 1;
      }
      const live = point.status === 'AVAILABLE' || point.status === 'DELETE_FAILED';
      if (point.lock !== undefined && live && (await store.points.update(point, point.version)).ok)
        report.lockedRewritten += 1;
    }
  } while (cursor);
  return report;
}
