import type { BackupPoint, Job } from '../../domain/model.js';
import type { JobFilter, Page, PageRequest } from '../../ports/store.js';
import type { Deps } from '../deps.js';
import { requestCancel } from '../cancel-job.js';
import type { Outcome } from './outcome.js';
import { conflict, notFound, ok } from './outcome.js';

/** A job with the backup point it produced, which holds the consistency actually achieved. */
export interface JobDetails {
  job: Job;
  point: BackupPoint | null;
}

function pointIdOf(job: Job): string | null {
  const id = job.state.pointId;
  return typeof id === 'string' && id !== '' ? id : null;
}

async function withPoints(deps: Pick<Deps, 'store'>, jobs: Job[]): Promise<JobDetails[]> {
  const ids = jobs.flatMap((j) => {
    const id = pointIdOf(j);
    return id === null ? [] : [id];
  });
  const points = new Map(
    (ids.length === 0 ? [] : await deps.store.points.getMany(ids)).map((p) => [p.id, p]),
  );
  return jobs.map((job) => {
    const id = pointIdOf(job);
    return { job, point: id === null ? null : (points.get(id) ?? null) };
  });
}

export async function listJobs(
  deps: Pick<Deps, 'store'>,
  filter: JobFilter,
  page: PageRequest,
): Promise<Page<JobDetails>> {
  const listed = await deps.store.jobs.list(filter, page);
  const items = await withPoints(deps, listed.items);
  return listed.cursor === undefined ? { items } : { items, cursor: listed.cursor };
}

export async function getJob(deps: Pick<Deps, 'store'>, jobId: string): Promise<Outcome<JobDetails>> {
  const job = await deps.store.jobs.get(jobId);
  if (job === undefined) return notFound('job', jobId);
  const [details] = await withPoints(deps, [job]);
  return ok(details!);
}

/** Cancel sets a flag the job's next step honours; a finished job cannot be cancelled. */
export async function cancelJob(deps: Deps, jobId: string): Promise<Outcome<JobDetails>> {
  const answer = await requestCancel(deps, jobId);
  if ('error' in answer) {
    if (answer.error === 'not_found') return notFound('job', jobId);
    const job = await deps.store.jobs.get(jobId);
    return conflict(`job ${jobId} already finished${job === undefined ? '' : ` (${job.status})`}`);
  }
  return ok({ job: answer, point: null });
}
