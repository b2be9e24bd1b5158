import { isTerminal } from '../../domain/job.js';
import type { Job } from '../../domain/model.js';
import type { Ecs, Tag } from '../../ports/ecs.js';
import { MANAGED_BY_VALUE, TAG_JOB, TAG_MANAGED_BY } from '../backup/ownership.js';
import type { Deps } from '../deps.js';
import { cloneParams, cloneState } from './state.js';

/** How far back the sweep looks for clones launched from a copy in another region. */
const OTHER_REGION_LOOKBACK_MS = 14 * 24 * 3600 * 1000;

export interface CloneOrphans {
  imagesDeleted: string[];
  instancesReleased: string[];
  /** Ours but not removed now: still being made, or a job record that no longer says. */
  left: string[];
}

function jobOf(tags: Tag[]): string | null {
  return tags.find((t) => t.key === TAG_JOB)?.value ?? null;
}

/**
 * Is the resource something its clone job wants kept? Yes while the job runs (it releases what it
 * holds itself), for the instance a completed clone launched (the result), for an image it was
 * asked to keep, and whenever the job record is gone or is not a clone (nothing says it is spare).
 */
function wanted(job: Job | undefined, kind: 'image' | 'instance', id: string): boolean {
  if (!job || job.type !== 'clone' || !isTerminal(job.status)) return true;
  const st = cloneState(job);
  if (job.status !== 'COMPLETE') return false;
  if (kind === 'instance') return st.newInstanceId === id && st.launched === true;
  return st.imageId === id && cloneParams(job).keepImage;
}

/**
 * Images and instances carrying our tag whose clone job has ended without them being its result:
 * what a clean-up that gave up, or a second launch from a re-sent request, left behind. Run by the
 * timer sweep; each resource is checked against its job record before it is removed.
 */
export async function sweepCloneOrphans(
  deps: Pick<Deps, 'ecs' | 'store' | 'log' | 'clock'>,
): Promise<CloneOrphans> {
  const out: CloneOrphans = { imagesDeleted: [], instancesReleased: [], left: [] };
  const jobs = new Map<string, Job | undefined>();
  const jobFor = async (id: string | null) => {
    if (id === null) return undefined;
    if (!jobs.has(id)) jobs.set(id, await deps.store.jobs.get(id));
    return jobs.get(id);
  };
  for (const ecs of await regionsToSweep(deps)) await sweepRegion(ecs, jobFor, out);
  if (out.imagesDeleted.length + out.instancesReleased.length > 0) {
    deps.log.warn('clone leftovers removed', { ...out });
  }
  return out;
}

/**
 * The home region, and every other region a recent clone launched in (a clone from a copy). Reading
 * the recent clone jobs costs one store page per 100 clones; scanning every allowed copy region
 * each hour would cost dozens of ECS calls for regions that never held a clone.
 */
async function regionsToSweep(deps: Pick<Deps, 'ecs' | 'store' | 'clock'>): Promise<Ecs[]> {
  const regions = new Set<string>();
  const from = deps.clock.now() - OTHER_REGION_LOOKBACK_MS;
  let cursor: string | undefined;
  do {
    const page = await deps.store.jobs.list({ type: 'clone', from }, { limit: 100, cursor });
    for (const job of page.items) {
      const regionId = cloneParams(job).regionId;
      if (regionId !== undefined && regionId !== deps.ecs.regionId) regions.add(regionId);
    }
    cursor = page.cursor;
  } while (cursor);
  return [deps.ecs, ...[...regions].sort().map((r) => deps.ecs.forRegion(r))];
}

async function sweepRegion(
  ecs: Ecs,
  jobFor: (id: string | null) => Promise<Job | undefined>,
  out: CloneOrphans,
): Promise<void> {
  const ours: Tag = { key: TAG_MANAGED_BY, value: MANAGED_BY_VALUE };
  for (const image of await ecs.findImagesByTag(ours)) {
    if (wanted(await jobFor(jobOf(image.tags)), 'image', image.imageId)) continue;
    if (image.status === 'Creating' || image.status === 'Waiting') {
      out.left.push(image.imageId);
      continue;
    }
    await ecs.deleteImage(image.imageId);
    out.imagesDeleted.push(image.imageId);
  }
  for (const instance of await ecs.findInstancesByTag(ours)) {
    if (wanted(await jobFor(jobOf(instance.tags)), 'instance', instance.instanceId)) continue;
    if (instance.status !== 'Running' && instance.status !== 'Stopped') {
      out.left.push(instance.instanceId);
      continue;
    }
    await ecs.deleteInstance(instance.instanceId);
    out.instancesReleased.push(instance.instanceId);
  }
}
