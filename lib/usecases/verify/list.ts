import type { BackupPoint } from '../../domain/model.js';
import type { Page, PageRequest, PointFilter } from '../../ports/store.js';
import type { Deps } from '../deps.js';

export type VerificationFilter = 'passed' | 'failed' | 'none';

/** Store pages read for one answer at most; the cursor then carries on where they stopped. */
const MAX_PAGES = 20;

function matches(point: BackupPoint, wanted: VerificationFilter): boolean {
  return wanted === 'none' ? point.verification === undefined : point.verification?.status === wanted;
}

/**
 * Backups by the verdict of their latest verification. The stores index no verdict, so store pages
 * are read in order and filtered: an answer holds the matches of the pages read (never more than the
 * limit, possibly none) and the store's cursor after them, so following cursors to the end sees
 * every match exactly once.
 */
export async function listBackupsByVerification(
  deps: Pick<Deps, 'store'>,
  filter: PointFilter,
  page: PageRequest,
  wanted: VerificationFilter,
): Promise<Page<BackupPoint>> {
  let cursor = page.cursor;
  for (let i = 0; ; i += 1) {
    const got = await deps.store.points.list(filter, { ...page, ...(cursor ? { cursor } : {}) });
    const items = got.items.filter((p) => matches(p, wanted));
    if (items.length > 0 || got.cursor === undefined || i + 1 >= MAX_PAGES) {
      return got.cursor === undefined ? { items } : { items, cursor: got.cursor };
    }
    cursor = got.cursor;
  }
}
