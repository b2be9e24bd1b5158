import { newJob } from '../../domain/job.js';
import type { Job } from '../../domain/model.js';
import type { Deps } from '../deps.js';
import { enqueueJob } from '../enqueue-job.js';
import { notFound, ok, type Outcome } from '../management/outcome.js';
import { checkClone, cloneParamsFor, type CloneRequest } from './check.js';

type RequestDeps = Pick<Deps, 'store' | 'ecs' | 'jobQueue' | 'clock' | 'ids'>;

/**
 * Starts a clone job after every check that can be made without writing: a refused request changes
 * nothing. The job is filed under the source instance (its backups' instance), the new instance id
 * is in its state once launched.
 */
export async function requestClone(
  deps: RequestDeps,
  backupId: string,
  request: CloneRequest,
): Promise<Outcome<Job>> {
  const point = await deps.store.points.get(backupId);
  if (!point) return notFound('backup', backupId);
  const params = await cloneParamsFor(deps, point, request);
  if (!params.ok) return params;
  const checked = await checkClone(deps, params.value);
  if (!checked.ok) return checked;
  const job = newJob(
    {
      id: deps.ids.next('job-'),
      type: 'clone',
      instanceId: point.instanceId,
      planId: point.planId,
      params: { ...params.value },
    },
    deps.clock.now(),
  );
  const { job: stored } = await enqueueJob(deps, { ...job, state: { pointId: backupId } });
  return ok(stored);
}
