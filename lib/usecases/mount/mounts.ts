import { isTerminal, newJob } from '../../domain/job.js';
import type { BackupPoint, Job } from '../../domain/model.js';
import type { Page, PageRequest } from '../../ports/store.js';
import type { Deps } from '../deps.js';
import { encodeJobMessage, enqueueJob } from '../enqueue-job.js';
import { conflict, notFound, ok, type Outcome } from '../management/outcome.js';
import { checkMount } from '../restore/check.js';
import {
  DEFAULT_MOUNT_TTL_HOURS,
  recoveryState,
  unmountJobId,
  type MountParams,
  type UnmountParams,
} from '../restore/state.js';

type RequestDeps = Pick<Deps, 'store' | 'ecs' | 'jobQueue' | 'clock' | 'ids'>;

export interface MountRequest {
  diskId: string;
  targetInstanceId: string;
  ttlHours?: number;
}

export async function requestMount(
  deps: RequestDeps,
  backupId: string,
  request: MountRequest,
): Promise<Outcome<Job>> {
  const params: MountParams = {
    backupId,
    diskId: request.diskId,
    targetInstanceId: request.targetInstanceId,
    ttlHours: request.ttlHours ?? DEFAULT_MOUNT_TTL_HOURS,
  };
  const checked = await checkMount(deps, params);
  if (!checked.ok) return checked;
  const job = newJob(
    {
      id: deps.ids.next('job-'),
      type: 'mount',
      instanceId: params.targetInstanceId,
      planId: checked.value.point.planId,
      params: { ...params },
    },
    deps.clock.now(),
  );
  const { job: stored } = await enqueueJob(deps, { ...job, state: { pointId: backupId } });
  return ok(stored);
}

/** A mount whose disk is attached now: its job COMPLETE and its claim still on the point. */
export interface ActiveMount {
  job: Job;
  point: BackupPoint;
  /** The unmount under way or failed, if any. */
  unmount: Job | null;
}

/**
 * Active mounts, newest first. Paging walks the completed mount jobs and keeps the active ones, so a
 * page may hold fewer than `limit` items while `cursor` still leads to more.
 */
export async function listMounts(deps: Pick<Deps, 'store'>, page: PageRequest): Promise<Page<ActiveMount>> {
  const listed = await deps.store.jobs.list({ type: 'mount', status: 'COMPLETE' }, page);
  const active = await activeOnly(deps, listed.items);
  return listed.cursor === undefined ? { items: active } : { items: active, cursor: listed.cursor };
}

export async function activeOnly(deps: Pick<Deps, 'store'>, mounts: Job[]): Promise<ActiveMount[]> {
  const pointIds = [...new Set(mounts.flatMap((j) => recoveryState(j).pointId ?? []))];
  const points = new Map(
    (pointIds.length === 0 ? [] : await deps.store.points.getMany(pointIds)).map((p) => [p.id, p]),
  );
  const live = mounts.flatMap((job) => {
    const point = points.get(recoveryState(job).pointId ?? '');
    return point && point.inUseBy.includes(job.id) ? [{ job, point }] : [];
  });
  const unmounts = new Map(
    (live.length === 0 ? [] : await deps.store.jobs.getMany(live.map((m) => unmountJobId(m.job.id)))).map(
      (j) => [j.id, j],
    ),
  );
  return live.map((m) => ({ ...m, unmount: unmounts.get(unmountJobId(m.job.id)) ?? null }));
}

/** The last unmount job of a mount: the first one, or the latest retry after it failed. */
async function latestUnmount(
  deps: Pick<Deps, 'store'>,
  mountJobId: string,
): Promise<{ job: Job | null; retry: number }> {
  let latest: Job | null = null;
  for (let retry = 0; retry < 50; retry += 1) {
    const job = await deps.store.jobs.get(unmountJobId(mountJobId, retry));
    if (!job) return { job: latest, retry };
    latest = job;
  }
  throw new Error(`mount ${mountJobId} has too many unmount attempts`);
}

/**
 * Starts (or returns) the unmount of a mount. One unmount job per mount at a time; after a failed
 * one a new request starts a retry. Used by the API and, with `trigger: 'ttl'`, by the expiry sweep.
 */
export async function requestUnmount(
  deps: Pick<Deps, 'store' | 'jobQueue' | 'clock'>,
  mountJobId: string,
  trigger: UnmountParams['trigger'],
): Promise<Outcome<Job>> {
  const mount = await deps.store.jobs.get(mountJobId);
  if (!mount || mount.type !== 'mount') return notFound('job', mountJobId);
  if (mount.status !== 'COMPLETE') {
    return conflict(
      isTerminal(mount.status)
        ? `mount job ${mountJobId} ended ${mount.status}; nothing is mounted`
        : `mount job ${mountJobId} is still ${mount.status}; cancel it instead (POST /api/v1/jobs/${mountJobId}/cancel)`,
    );
  }
  const { job: last, retry } = await latestUnmount(deps, mountJobId);
  if (last && !isTerminal(last.status)) return ok(last);
  if (last?.status === 'COMPLETE')
    return conflict(`mount ${mountJobId} was already unmounted by job ${last.id}`);
  const pointId = recoveryState(mount).pointId ?? '';
  const point = await deps.store.points.get(pointId);
  if (!point || !point.inUseBy.includes(mountJobId)) {
    return conflict(`mount ${mountJobId} no longer holds backup ${pointId}; nothing to unmount`);
  }
  const params: UnmountParams = { mountJobId, trigger };
  const job = newJob(
    {
      id: unmountJobId(mountJobId, retry),
      type: 'unmount',
      instanceId: mount.instanceId,
      planId: mount.planId,
      params: { ...params },
    },
    deps.clock.now(),
  );
  const written = await deps.store.jobs.create({ ...job, state: { pointId, mountJobId } });
  // A racing request created it first: that one announces it.
  if (!written.ok) return ok(written.current ?? (await deps.store.jobs.get(job.id)) ?? job);
  await deps.jobQueue.send(encodeJobMessage(job.id));
  return ok(written.value);
}
