import type { Job } from '../../domain/model.js';
import type { Deps } from '../deps.js';
import { jobContext } from '../jobs/job-context.js';
import { JOB_KINDS } from '../job-kinds.js';
import type { JobKinds, Resource } from '../jobs/job-kind.js';
import { MAX_MOUNT_TTL_HOURS, recoveryState } from '../restore/state.js';
import { activeOnly, requestUnmount } from './mounts.js';

export interface RecoverySweepReport {
  /** Mounts past their TTL whose unmount job was started by this sweep. */
  unmountsStarted: number;
  /** Restore or mount jobs that ended without their own clean-up (dead-lettered) and were cleaned up here. */
  reaped: number;
}

const DAY_MS = 86_400_000;
/** Every mount that can still be within its TTL, plus a day of slack for a scheduler outage. */
const LOOKBACK_MS = MAX_MOUNT_TTL_HOURS * 3_600_000 + DAY_MS;
const PAGE = 500;
const MAX_PAGES = 10;

/**
 * Runs on every scheduler tick (once a minute in the cloud): a mount is unmounted within a minute of
 * its TTL, where the hourly retention timer could hold a 1-hour mount for up to two. The cost is one
 * query over the mounts of the last eight days and one over the recent failed recovery jobs, both small.
 */
export async function sweepRecovery(
  deps: Deps,
  now: number,
  kinds: JobKinds = JOB_KINDS,
): Promise<RecoverySweepReport> {
  const report: RecoverySweepReport = { unmountsStarted: 0, reaped: 0 };
  try {
    report.unmountsStarted = await unmountExpired(deps, now);
    report.reaped = await reapAbandoned(deps, now, kinds);
  } catch (err) {
    deps.log.error('recovery sweep failed; the next tick retries', {
      error: err instanceof Error ? err.message : String(err),
    });
  }
  return report;
}

async function recentJobs(deps: Deps, filter: Parameters<Deps['store']['jobs']['list']>[0]): Promise<Job[]> {
  const out: Job[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const listed = await deps.store.jobs.list(filter, {
      limit: PAGE,
      order: 'asc',
      ...(cursor ? { cursor } : {}),
    });
    out.push(...listed.items);
    cursor = listed.cursor;
    if (!cursor) break;
  }
  return out;
}

async function unmountExpired(deps: Deps, now: number): Promise<number> {
  const mounts = await recentJobs(deps, { type: 'mount', status: 'COMPLETE', from: now - LOOKBACK_MS });
  const expired = mounts.filter((j) => (recoveryState(j).expiresAt ?? Number.POSITIVE_INFINITY) <= now);
  if (expired.length === 0) return 0;
  let started = 0;
  for (const { job, unmount } of await activeOnly(deps, expired)) {
    // One automatic attempt per mount: a failed unmount is shown on GET /mounts for a person to retry.
    if (unmount !== null) continue;
    const answer = await requestUnmount(deps, job.id, 'ttl');
    if (answer.ok) {
      started += 1;
      deps.log.info('mount expired; unmount started', { mountJobId: job.id, unmountJobId: answer.value.id });
    }
  }
  return started;
}

/**
 * A job that ended without its own clean-up (its last write was forced after its deliveries kept
 * failing) may still hold what its kind declares. Its claim on the point is how it is found (a job's
 * own endings release the point before their last write); its kind's resources are then released in
 * order, as the clean-up step would, and the claim last.
 */
async function reapAbandoned(deps: Deps, now: number, kinds: JobKinds): Promise<number> {
  const failed = [
    ...(await recentJobs(deps, { type: 'restore', status: 'FAILED', from: now - LOOKBACK_MS })),
    ...(await recentJobs(deps, { type: 'mount', status: 'FAILED', from: now - LOOKBACK_MS })),
    // A copy job claims its backup too (lib/usecases/copy/): its copies in the target region are its holds.
    ...(await recentJobs(deps, { type: 'copy', status: 'FAILED', from: now - LOOKBACK_MS })),
  ];
  const withPoint = failed.filter((j) => recoveryState(j).pointId);
  if (withPoint.length === 0) return 0;
  const points = new Map(
    (await deps.store.points.getMany([...new Set(withPoint.map((j) => recoveryState(j).pointId!))])).map(
      (p) => [p.id, p],
    ),
  );
  let reaped = 0;
  for (const job of withPoint) {
    const st = recoveryState(job);
    const kind = kinds[job.type];
    if (!kind || !points.get(st.pointId!)?.inUseBy.includes(job.id)) continue;
    if (await releaseAll(deps, kind.holds, job)) {
      deps.log.warn('abandoned recovery job cleaned up', { jobId: job.id, diskId: st.diskId ?? null });
      reaped += 1;
    }
  }
  return reaped;
}

/** One pass over the resources; false when one needs another pass (a disk still detaching). */
async function releaseAll(deps: Deps, holds: readonly Resource[], job: Job): Promise<boolean> {
  const ctx = jobContext(deps);
  ctx.current = job;
  for (const resource of holds) {
    if ((recoveryState(job).released ?? []).includes(resource.name)) continue;
    const out = await resource.release(ctx, ctx.current ?? job);
    if (out.state === 'wait') return false;
  }
  return true;
}
