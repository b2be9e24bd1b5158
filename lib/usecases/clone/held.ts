import type { Job } from '../../domain/model.js';
import { EcsError, type Tag } from '../../ports/ecs.js';
import { TAG_JOB } from '../backup/ownership.js';
import type { Release, Resource, StepContext } from '../jobs/job-kind.js';
import { record } from '../jobs/job-writes.js';
import { sendCreateImage, sendRunInstance } from './steps.js';
import { cloneState, type CloneState } from './state.js';

/**
 * What a clone holds while it runs, released when it fails or is canceled: the instance it
 * launched (unless it reached Running and is the result), the temporary image, the claim.
 * An id a crash kept from the record is found by the job's tag, or by sending the create again
 * with the same ClientToken (ECS answers the first resource; a refusal means none was made).
 */

const jobTag = (job: Job): Tag => ({ key: TAG_JOB, value: job.id });

function carriesJob(tags: Tag[], job: Job): boolean {
  return tags.some((t) => t.key === TAG_JOB && t.value === job.id);
}

async function againOrNone(send: () => Promise<string>): Promise<string | null> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof EcsError && !err.retryable) return null;
    throw err;
  }
}

async function launchedId(ctx: StepContext, job: Job): Promise<string | null> {
  const st = cloneState(job);
  if (st.newInstanceId) return st.newInstanceId;
  const [tagged] = await ctx.deps.ecs.findInstancesByTag(jobTag(job));
  if (tagged) return tagged.instanceId;
  // No image, no instance: RunInstances cannot have made one.
  if (!st.imageId) return null;
  return againOrNone(() => sendRunInstance(ctx, job));
}

export const launchedInstance: Resource = {
  name: 'new-instance',
  async release(ctx, job): Promise<Release> {
    const st = cloneState(job);
    if (st.launched || (!st.runRequested && !st.newInstanceId)) return { state: 'released' };
    const id = await launchedId(ctx, job);
    if (!id) return { state: 'released' };
    if (!st.newInstanceId) await record<CloneState>(ctx, job, { newInstanceId: id });
    const instance = await ctx.deps.ecs.describeInstanceAttribute(id);
    if (!instance) return { state: 'released', note: `instance ${id} released` };
    if (!carriesJob(instance.tags, job)) {
      return { state: 'left', note: `instance ${id} does not carry the tag of job ${job.id}; left alone` };
    }
    // ECS releases an instance only once it is Running or Stopped.
    if (instance.status !== 'Running' && instance.status !== 'Stopped') return { state: 'wait' };
    await ctx.deps.ecs.deleteInstance(id);
    return { state: 'released', note: `instance ${id} released` };
  },
  leftover(job) {
    const { newInstanceId } = cloneState(job);
    return newInstanceId ? `release instance ${newInstanceId} by hand` : null;
  },
};

async function imageId(ctx: StepContext, job: Job): Promise<string | null> {
  const st = cloneState(job);
  if (st.imageId) return st.imageId;
  const [tagged] = await ctx.deps.ecs.findImagesByTag(jobTag(job));
  if (tagged) return tagged.imageId;
  return againOrNone(() => sendCreateImage(ctx, job));
}

export const temporaryImage: Resource = {
  name: 'image',
  async release(ctx, job): Promise<Release> {
    const st = cloneState(job);
    if (!st.imageRequested && !st.imageId) return { state: 'released' };
    const id = await imageId(ctx, job);
    if (!id) return { state: 'released' };
    if (!st.imageId) await record<CloneState>(ctx, job, { imageId: id });
    const [image] = await ctx.deps.ecs.describeImages([id]);
    if (!image) return { state: 'released', note: `image ${id} deleted` };
    if (!carriesJob(image.tags, job)) {
      return { state: 'left', note: `image ${id} does not carry the tag of job ${job.id}; left alone` };
    }
    // ECS deletes an image only once it is made.
    if (image.status === 'Creating' || image.status === 'Waiting') return { state: 'wait' };
    await ctx.deps.ecs.deleteImage(id);
    return { state: 'released', note: `image ${id} deleted` };
  },
  leftover(job) {
    const { imageId: id } = cloneState(job);
    return id ? `delete image ${id} by hand` : null;
  },
};
