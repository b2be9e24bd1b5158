import type { Release, Resource } from '../jobs/job-kind.js';
import { objectStoreOf, sendGuest } from './guest-steps.js';
import { exportKeys, exportState } from './state.js';

const RUNNING = new Set(['Pending', 'Running', 'Stopping', 'Scheduled']);

/**
 * The guest command: stopped by the cancel marker it checks before each batch of uploads (Cloud
 * Assistant's StopInvocation would leave its mount behind; the marker lets it unmount on its way
 * out). Released once the command has ended.
 */
export const guestCommand: Resource = {
  name: 'guest',
  async release(ctx, job): Promise<Release> {
    const st = exportState(job);
    if (!st.guestRequested && !st.invokeId) return { state: 'released' };
    await objectStoreOf(ctx).put(exportKeys(job.id).cancel, 'canceled', 'text/plain');
    // A crash after RunCommand was sent: the same token names the command (or starts one that stops at once).
    const invokeId = st.invokeId ?? (await sendGuest(ctx, job));
    const [result] = await ctx.deps.ecs.describeInvocationResults([invokeId]);
    if (result && RUNNING.has(result.status)) return { state: 'wait' };
    return { state: 'released', note: 'the export script was stopped' };
  },
  leftover: (job) => `stop the command ${exportState(job).invokeId ?? ''} on ${job.instanceId} by hand`,
};

/** What the guest uploaded, and uploads it left unfinished: all deleted. */
export const uploadedObjects: Resource = {
  name: 'objects',
  async release(ctx, job): Promise<Release> {
    const store = ctx.deps.objectStore;
    if (!store) return { state: 'released' };
    const { prefix } = exportKeys(job.id);
    await store.abortUploads(prefix);
    await store.delete(prefix);
    return { state: 'released', note: 'the uploaded files were deleted' };
  },
  leftover: (job) => `delete the objects under ${exportKeys(job.id).prefix} by hand`,
};
