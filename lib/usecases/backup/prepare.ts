import { decideConsistencyForInstance, type AgentStatus } from '../../domain/consistency.js';
import type { Job, OsType } from '../../domain/model.js';
import { EcsError, EcsNotFoundError, type EcsDisk } from '../../ports/ecs.js';
import type { StepContext } from '../jobs/job-kind.js';
import { noted } from '../jobs/job-writes.js';
import { isVerifyDisk } from '../verify/state.js';
import { backupParams, type BackupJobState, type ResolvedDisk } from './state.js';

export type Prepared = { state: Partial<BackupJobState> } | { refused: string };

function toResolved(d: EcsDisk): ResolvedDisk {
  return { diskId: d.diskId, category: d.category, sizeGiB: d.sizeGiB, type: d.type, device: d.device };
}

async function attachedDisks(ctx: StepContext, instanceId: string): Promise<EcsDisk[]> {
  try {
    return await ctx.deps.ecs.describeInstanceDisks(instanceId);
  } catch (err) {
    if (err instanceof EcsNotFoundError) return [];
    throw err;
  }
}

/**
 * Resolves the disks (protect-all = the disks attached now, so one attached after the plan was made
 * is included; a listed disk that is gone makes the job partial) and decides the consistency
 * (design §4). Reads only, apart from installing a missing agent, which is idempotent.
 */
export async function prepare(ctx: StepContext, job: Job): Promise<Prepared> {
  const { deps } = ctx;
  const params = backupParams(job);
  const attached = await attachedDisks(ctx, job.instanceId);
  if (attached.length === 0) {
    return {
      refused: `instance ${job.instanceId} has no attached disk or no longer exists; stop its protection or delete the plan`,
    };
  }
  let disks: ResolvedDisk[];
  let missing: string[] = [];
  if (params.disks === 'all') {
    // A verification's temporary disks may be attached right now: they are a backup, not the instance's.
    disks = attached.filter((d) => !isVerifyDisk(d)).map(toResolved);
  } else {
    const byId = new Map(attached.map((d) => [d.diskId, d]));
    disks = params.disks.flatMap((id) => {
      const d = byId.get(id);
      return d ? [toResolved(d)] : [];
    });
    missing = params.disks.filter((id) => !byId.has(id));
  }
  if (disks.length === 0) {
    return {
      refused: `none of the selected disks (${missing.join(', ')}) is attached to ${job.instanceId}; update the plan's disk list`,
    };
  }
  const notes: string[] = [];
  if (missing.length > 0) {
    notes.push(`disk(s) ${missing.join(', ')} no longer attached to ${job.instanceId}; backed up the others`);
  }
  const options = params.consistency;
  let os: OsType = 'linux';
  let status = 'Running';
  let agent: AgentStatus = 'running';
  // Crash consistency needs nothing from the guest: skip the calls that ask about it.
  if (options.applicationConsistent) {
    const [instance] = await deps.ecs.describeInstances([job.instanceId]);
    if (!instance) return { refused: `instance ${job.instanceId} no longer exists; stop its protection` };
    os = instance.osType;
    status = instance.status;
    if (status === 'Running') {
      const agents = await deps.ecs.cloudAssistantStatus([job.instanceId]);
      agent = agents[job.instanceId] ? 'running' : 'missing';
    }
  }
  const decision = decideConsistencyForInstance({ os, status, agent }, options, disks, {
    groupDiskLimit: deps.settings.GROUP_DISK_LIMIT,
  });
  if (decision.method === 'fail')
    return { refused: decision.reason ?? 'consistency requirements cannot be met' };
  if ((decision.expected !== decision.requested || decision.snapshot === 'per-disk') && decision.reason) {
    notes.push(decision.reason);
  }
  if (decision.installAgent) {
    try {
      await deps.ecs.installCloudAssistant([job.instanceId]);
    } catch (err) {
      if (err instanceof EcsError && err.retryable) throw err;
      notes.push(
        `installing the Cloud Assistant agent failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  return { state: { disks, missingDisks: missing, os, decision, notes: [...noted(job, null), ...notes] } };
}
