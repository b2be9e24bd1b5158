import { newJob } from '../../domain/job.js';
import type { Job } from '../../domain/model.js';
import type { Deps } from '../deps.js';
import { enqueueJob } from '../enqueue-job.js';
import { ok, type Outcome } from '../management/outcome.js';
import { checkRestore } from './check.js';
import type { RestoreMode, RestoreParams } from './state.js';

export interface RestoreRequest {
  mode: RestoreMode;
  diskId?: string;
  targetInstanceId?: string;
  stopInstance?: boolean;
  regionId?: string;
}

type RequestDeps = Pick<Deps, 'store' | 'ecs' | 'jobQueue' | 'clock' | 'ids'>;

/**
 * Starts a restore job after every check that can be made without writing: a refused request changes
 * nothing. The job claims the point itself when it starts, so a job canceled before it ran holds nothing.
 */
export async function requestRestore(
  deps: RequestDeps,
  backupId: string,
  request: RestoreRequest,
): Promise<Outcome<Job>> {
  const params: RestoreParams = {
    backupId,
    mode: request.mode,
    diskId: request.diskId ?? null,
    targetInstanceId: request.targetInstanceId ?? null,
    stopInstance: request.stopInstance ?? false,
    ...(request.regionId !== undefined && request.regionId !== deps.ecs.regionId
      ? { regionId: request.regionId }
      : {}),
  };
  const checked = await checkRestore(deps, params, { requireStopped: true });
  if (!checked.ok) return checked;
  const job = newJob(
    {
      id: deps.ids.next('job-'),
      type: 'restore',
      // The instance the restore changes: the one rolled back, or the one receiving the clone.
      instanceId: checked.value.instance.instanceId,
      planId: checked.value.point.planId,
      params: { ...params },
    },
    deps.clock.now(),
  );
  const { job: stored } = await enqueueJob(deps, { ...job, state: { pointId: backupId } });
  return ok(stored);
}
