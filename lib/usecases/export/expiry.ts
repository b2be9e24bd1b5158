import type { Deps } from '../deps.js';
import { deleteExport } from './requests.js';
import { exportState } from './state.js';

const PAGE = 500;
const MAX_PAGES = 20;

/**
 * Deletes the files of completed exports past their expiry (`EXPORT_TTL_DAYS`), from the hourly
 * retention timer. The record stays, marked deleted, so the tab still shows what was exported.
 * Returns how many exports were deleted.
 */
export async function expireExports(
  deps: Pick<Deps, 'store' | 'objectStore' | 'clock' | 'log'>,
  now: number,
): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const listed = await deps.store.jobs.list(
      { type: 'export', status: ['COMPLETE'] },
      { limit: PAGE, order: 'asc', ...(cursor ? { cursor } : {}) },
    );
    for (const job of listed.items) {
      const st = exportState(job);
      if (st.deletedAt || (st.exportExpiresAt ?? Number.POSITIVE_INFINITY) > now) continue;
      const answer = await deleteExport(deps, job.id);
      if (answer.ok) deleted += 1;
      else deps.log.warn('expired export not deleted', { exportId: job.id });
    }
    cursor = listed.cursor;
    if (!cursor) break;
  }
  return deleted;
}
