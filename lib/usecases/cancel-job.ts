import { isTerminal, transition } from '../domain/job.js';
import type { Job } from '../domain/model.js';
import type { Deps } from './deps.js';
import { encodeJobMessage } from './enqueue-job.js';

/**
 * Asks a job to stop. A job that has not started is CANCELED at once; a running one goes
 * CANCELING and the worker, woken by a message, honours it at its next step (deleting a snapshot
 * still being created). Racing writers are handled by re-reading and trying again.
 */
export async function requestCancel(
  deps: Pick<Deps, 'store' | 'jobQueue' | 'clock'>,
  jobId: string,
): Promise<Job | { error: 'not_found' | 'terminal' }> {
  for (let i = 0; i < 10; i += 1) {
    const job = await deps.store.jobs.get(jobId);
    if (!job) return { error: 'not_found' };
    if (isTerminal(job.status)) return { error: 'terminal' };
    if (job.status === 'CANCELING') {
      await deps.jobQueue.send(encodeJobMessage(job.id));
      return job;
    }
    const now = deps.clock.now();
    const notStarted = (job.status === 'QUEUED' || job.status === 'CREATED') && job.step === 'start';
    const next = notStarted
      ? transition(job, 'CANCELED', now, { cancelRequested: true, reason: 'canceled before it started' })
      : job.status === 'RUNNING'
        ? transition(job, 'CANCELING', now, { cancelRequested: true, reason: 'cancel requested' })
        : { ...job, cancelRequested: true, updatedAt: now };
    const written = await deps.store.jobs.update(next, job.version);
    if (!written.ok) continue;
    if (!isTerminal(written.value.status)) await deps.jobQueue.send(encodeJobMessage(job.id));
    return written.value;
  }
  throw new Error(`job ${jobId} kept changing while being canceled`);
}
