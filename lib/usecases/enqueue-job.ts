import type { Job } from '../domain/model.js';
import type { Queue } from '../ports/queue.js';
import type { Store } from '../ports/store.js';
import { encodeJobMessage } from './jobs/job-message.js';

/** Callers that only announce a job import the codec from here, next to `enqueueJob`. */
export { encodeJobMessage };

/**
 * Persist the job first, then announce it. A job that already exists (same deterministic id:
 * a retried timer or request) is announced again rather than duplicated; the worker is idempotent.
 */
export async function enqueueJob(
  deps: { store: Store; jobQueue: Queue },
  job: Job,
  delaySeconds = 0,
): Promise<{ job: Job; created: boolean }> {
  const written = await deps.store.jobs.create(job);
  const stored = written.ok ? written.value : (written.current ?? (await deps.store.jobs.get(job.id)));
  if (!stored) throw new Error(`job ${job.id} could not be created or read back`);
  await deps.jobQueue.send(encodeJobMessage(stored.id), {
    delaySeconds: Math.max(0, Math.round(delaySeconds)),
  });
  return { job: stored, created: written.ok };
}
