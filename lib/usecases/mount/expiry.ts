import type { Job } from '../../domain/model.js';
import type { Deps } from '../../runtime/deps.js';
import { ecsReaders } from '../backup/ecs-readers.js';
import { removeDisk } from '../restore/disk-steps.js';
import type { StepContext } from '../restore/kit.js';
import { releasePoint } from '../restore/point-use.js';
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
export async function sweepRecovery(deps: Deps, now: number): Promise<RecoverySweepReport> {
  const report: RecoverySweepReport = { unmountsStarted: 0, reaped: 0 };
  try {
    report.unmountsStarted = await unmountExpired(deps, now);
    report.reaped = await reapAbandoned(deps, now);
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
 * A job dead-lettered by the worker is marked FAILED without running its own clean-up. Its mark is
 * still on the point (the job's own endings release the point before their last write), which is
 * how it is found: delete the disk it created, start the instance it stopped, release the point.
 */
async function reapAbandoned(deps: Deps, now: number): Promise<number> {
  const failed = [
    ...(await recentJobs(deps, { type: 'restore', status: 'FAILED', from: now - LOOKBACK_MS })),
    ...(await recentJobs(deps, { type: 'mount', status: 'FAILED', from: now - LOOKBACK_MS })),
  ];
  const withPoint = failed.filter((j) => recoveryState(j).pointId);
  if (withPoint.length === 0) return 0;
  const points = new Map(
    (await deps.store.points.getMany([...new Set(withPoint.map((j) => recoveryState(j).pointId!))])).map(
      (p) => [p.id, p],
    ),
  );
  const ctx: StepContext = {
    deps,
    readers: ecsReaders(deps.ecs, deps.clock, deps.settings.POLL_INTERVAL_SECONDS),
    entered: new Set(),
  };
  let reaped = 0;
  for (const job of withPoint) {
    const st = recoveryState(job);
    if (!points.get(st.pointId!)?.inUseBy.includes(job.id)) continue;
    if (st.diskId && !st.diskRemoved) {
      const removal = await removeDisk(ctx, st.diskId, job.id);
      // Detaching takes a moment: the next tick deletes it and releases the point.
      if (removal.state === 'wait') continue;
    }
    if (st.stoppedByUs && !st.instanceRestarted) {
      const [instance] = await deps.ecs.describeInstances([job.instanceId]);
      if (instance?.status === 'Stopping') continue;
      if (instance?.status === 'Stopped') await deps.ecs.startInstance(job.instanceId);
    }
    await releasePoint(deps, st.pointId!, job.id);
    deps.log.warn('abandoned recovery job cleaned up', { jobId: job.id, diskId: st.diskId ?? null });
    reaped += 1;
  }
  return reaped;
}
