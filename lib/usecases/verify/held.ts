import type { Job } from '../../domain/model.js';
import { EcsError } from '../../ports/ecs.js';
import type { Release, Resource } from '../jobs/job-kind.js';
import { engineState } from '../jobs/job-kind.js';
import { record } from '../jobs/job-writes.js';
import { removeDisk } from '../restore/held-resources.js';
import { sendCreateDisk } from './disk-steps.js';
import { SETTLED } from '../jobs/guest-command.js';
import { sendGuest } from './guest-steps.js';
import { recordVerification } from './record.js';
import { verifyState, type VerifyDisk, type VerifyState } from './state.js';

/**
 * The verify command: it only reads, and unmounts on its way out, so the clean-up waits for it to end
 * before the disks are detached. A crash right after RunCommand was sent: the same token names it.
 */
export const verifyCommand: Resource = {
  name: 'guest',
  async release(ctx, job): Promise<Release> {
    const st = verifyState(job);
    if (!st.guestRequested && !st.invokeId) return { state: 'released' };
    const invokeId = st.invokeId ?? (await sendGuest(ctx, job));
    const [result] = await ctx.deps.ecs.describeInvocationResults([invokeId]);
    if (result && !SETTLED.has(result.status)) return { state: 'wait' };
    return { state: 'released' };
  },
  leftover: (job) =>
    `stop the command ${verifyState(job).invokeId ?? ''} on ${verifyState(job).helperId ?? ''} by hand`,
};

/** A disk whose id a crash kept from the record is found by asking again with the same token. */
async function knownDisk(
  ctx: Parameters<Resource['release']>[0],
  job: Job,
  d: VerifyDisk,
): Promise<string | null> {
  if (d.diskId) return d.diskId;
  try {
    return await sendCreateDisk(ctx, job, d);
  } catch (err) {
    // Refused again for the reason it was refused the first time: nothing was created.
    if (err instanceof EcsError && !err.retryable) return null;
    throw err;
  }
}

/** The temporary disks: detached and deleted, each only while it carries this job's tag. */
export const verifyDisks: Resource = {
  name: 'disks',
  async release(ctx, job): Promise<Release> {
    const st = verifyState(job);
    if (!st.disksRequested) return { state: 'released' };
    const disks: VerifyDisk[] = [];
    for (const d of st.disks ?? []) {
      const diskId = await knownDisk(ctx, job, d);
      disks.push(diskId ? { ...d, diskId } : d);
    }
    const current = disks.some((d, i) => d.diskId !== st.disks?.[i]?.diskId)
      ? await record<VerifyState>(ctx, job, { disks })
      : job;
    let waiting = false;
    const notes: string[] = [];
    for (const d of verifyState(current).disks ?? []) {
      if (!d.diskId) continue;
      const out = await removeDisk(ctx, d.diskId, job.id);
      if (out.state === 'wait') waiting = true;
      else if (out.state === 'left') notes.push(out.note);
    }
    if (waiting) return { state: 'wait' };
    return notes.length > 0 ? { state: 'left', note: notes.join('; ') } : { state: 'released' };
  },
  leftover: (job) => {
    const ids = (verifyState(job).disks ?? []).flatMap((d) => (d.diskId ? [d.diskId] : []));
    return ids.length > 0 ? `delete disks ${ids.join(', ')} by hand` : null;
  },
};

/**
 * A verification that could not finish is a failed one: recorded on the point with the reason, and
 * announced. A canceled one records nothing (the point keeps its previous verdict).
 */
export const failedVerdict: Resource = {
  name: 'verdict',
  async release(ctx, job): Promise<Release> {
    const ending = engineState(job).ending;
    if (ending?.status !== 'FAILED') return { state: 'released' };
    // The script's verdict stands when there is one (the disks then would not go, say).
    const verdict = verifyState(job).verdict ?? {
      status: 'failed' as const,
      reason: `verification could not run: ${ending.reason}`,
    };
    await recordVerification(ctx.deps, job, verdict);
    return { state: 'released' };
  },
};
