import { newJob } from '../../domain/job.js';
import type { BackupJobParams, Job } from '../../domain/model.js';
import type { Deps } from '../deps.js';
import { enqueueJob } from '../enqueue-job.js';

/** An on-demand backup job: stored QUEUED, then announced to the worker right away. */
export async function startBackupJob(
  deps: Pick<Deps, 'store' | 'jobQueue' | 'clock' | 'ids'>,
  fields: { instanceId: string; planId: string | null; params: BackupJobParams },
): Promise<Job> {
  const job = newJob(
    {
      id: deps.ids.next('job-'),
      type: 'backup',
      instanceId: fields.instanceId,
      planId: fields.planId,
      params: { ...fields.params },
    },
    deps.clock.now(),
  );
  const { job: stored } = await enqueueJob(deps, job);
  return stored;
}
