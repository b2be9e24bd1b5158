import { isTerminal } from '../../domain/job.js';
import { MANAGED_BY_VALUE, TAG_JOB, TAG_MANAGED_BY } from '../backup/ownership.js';
import type { Deps } from '../deps.js';
import { isVerifyDisk } from './state.js';

export interface VerifyOrphans {
  detached: string[];
  deleted: string[];
}

/**
 * Temporary disks of verifications whose job has ended (or whose record is gone): what a clean-up
 * that gave up left behind. Run by the hourly sweep; a disk of a live job is that job's to remove.
 * One pass detaches, the next deletes (ECS detaches asynchronously).
 */
export async function sweepVerifyOrphans(deps: Pick<Deps, 'ecs' | 'store'>): Promise<VerifyOrphans> {
  const out: VerifyOrphans = { detached: [], deleted: [] };
  const ours = await deps.ecs.findDisksByTag({ key: TAG_MANAGED_BY, value: MANAGED_BY_VALUE });
  for (const disk of ours.filter(isVerifyDisk)) {
    const jobId = disk.tags.find((t) => t.key === TAG_JOB)?.value;
    const job = jobId ? await deps.store.jobs.get(jobId) : undefined;
    if (job && !isTerminal(job.status)) continue;
    if (disk.status === 'In_use' && disk.instanceId) {
      await deps.ecs.detachDisk(disk.diskId, disk.instanceId);
      out.detached.push(disk.diskId);
    } else if (disk.status === 'Available') {
      await deps.ecs.deleteDisk(disk.diskId);
      out.deleted.push(disk.diskId);
    }
  }
  return out;
}
