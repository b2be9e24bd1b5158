import { firstMessageOverdue, firstMessageDueAt } from '../../domain/dispatch.js';
import type { Deps } from '../deps.js';
import { encodeJobMessage } from './job-message.js';

/** Pages of queued jobs one tick looks at; the next tick goes on. */
const MAX_PAGES = 10;
const PAGE_SIZE = 500;

/**
 * Re-sends the first message of every job whose creator died between writing it and announcing it
 * (rule: `firstMessageOverdue`); returns how many. The tick touches such a job first (a conditional
 * write: of two ticks only one re-sends). If the original message was only late (a queue backlog),
 * the two deliveries collapse: the start step's conditional write lets one of them start the job,
 * and a message without a version that arrives after the start runs the current step once, whose
 * follow-up makes the other chain's message stale. A job touched here is at version 2, so it is
 * re-sent here at most once; one that still never starts falls to the stall sweep (JOB_STALL_SECONDS).
 */
export async function redispatchUndelivered(deps: Deps, now: number): Promise<number> {
  const graceMs = deps.settings.JOB_DISPATCH_GRACE_SECONDS * 1000;
  let sent = 0;
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const jobs = await deps.store.jobs.list(
      { status: 'QUEUED', to: now - graceMs },
      { limit: PAGE_SIZE, cursor, order: 'asc' },
    );
    for (const job of jobs.items) {
      if (!firstMessageOverdue(job, now, graceMs)) continue;
      const touched = await deps.store.jobs.update({ ...job, updatedAt: now }, job.version);
      if (!touched.ok) continue;
      await deps.jobQueue.send(encodeJobMessage(job.id));
      deps.log.warn('job never announced; first message sent again', {
        jobId: job.id,
        overdueMs: now - firstMessageDueAt(job),
      });
      sent += 1;
    }
    cursor = jobs.cursor;
    if (!cursor) break;
  }
  return sent;
}
