import type { Job } from '../../lib/domain/model.js';
import type { Ecs } from '../../lib/ports/ecs.js';
import type { Deps } from '../../lib/runtime/deps.js';

/**
 * Where a benchmark's ECS calls come from. The emulator counts what reached it; this counts what the
 * engine asked of the adapter (the difference is the adapter's own retries), and for each call that
 * names an instance, the job's state when it was made (each instance has one job in the benchmarks).
 * Lost conditional writes are counted by the step they tried to write: each one is a delivery that
 * did its reads for nothing.
 */
export interface EngineAuditReport {
  /** Calls the engine made, by adapter method. */
  byMethod: Record<string, number>;
  /** Instance-scoped calls by `method @ status/step` of the instance's job at the time. */
  byJobState: Record<string, number>;
  /** How many instances saw n calls of `describeInstanceDisks`, by n. */
  diskReadsPerInstance: Record<number, number>;
  /** Job writes refused by the version check, by the `status/step` they tried to write. */
  lostWrites: Record<string, number>;
  /** Poll-step writes (one per poll round). */
  polls: number;
}

const INSTANCE_SCOPED: Record<string, (args: unknown[]) => string | undefined> = {
  describeInstanceDisks: (a) => a[0] as string,
  describeInstances: (a) => (a[0] as string[] | undefined)?.[0],
  cloudAssistantStatus: (a) => (a[0] as string[])[0],
  createSnapshotGroup: (a) => (a[0] as { instanceId: string }).instanceId,
};

/** The ECS action behind each adapter method, for the methods the backup engine calls. */
export const ACTION_OF: Record<string, string> = {
  describeInstanceDisks: 'DescribeDisks',
  describeDisks: 'DescribeDisks',
  describeInstances: 'DescribeInstances',
  cloudAssistantStatus: 'DescribeCloudAssistantStatus',
  createSnapshotGroup: 'CreateSnapshotGroup',
  describeSnapshotGroups: 'DescribeSnapshotGroups',
  describeSnapshots: 'DescribeSnapshots',
};

const bump = (m: Record<string | number, number>, k: string | number) => (m[k] = (m[k] ?? 0) + 1);

export function auditEngine(deps: Deps): { report(): EngineAuditReport } {
  const audit: EngineAuditReport = {
    byMethod: {},
    byJobState: {},
    diskReadsPerInstance: {},
    lostWrites: {},
    polls: 0,
  };
  const stateOf = new Map<string, string>();
  const diskReads = new Map<string, number>();
  const inner = deps.ecs;
  deps.ecs = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        bump(audit.byMethod, prop);
        const instanceId = INSTANCE_SCOPED[prop]?.(args);
        if (instanceId !== undefined) {
          bump(audit.byJobState, `${prop} @ ${stateOf.get(instanceId) ?? 'QUEUED/start'}`);
          if (prop === 'describeInstanceDisks')
            diskReads.set(instanceId, (diskReads.get(instanceId) ?? 0) + 1);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as Ecs;
  const previous = deps.hooks?.afterJobStep;
  deps.hooks = {
    ...deps.hooks,
    afterJobStep: async (job: Job) => {
      stateOf.set(job.instanceId, `${job.status}/${job.step}`);
      if (job.step === 'poll') audit.polls += 1;
      await previous?.(job);
    },
  };
  const jobs = deps.store.jobs;
  const update = jobs.update.bind(jobs);
  jobs.update = async (job, expectedVersion) => {
    const written = await update(job, expectedVersion);
    if (!written.ok) bump(audit.lostWrites, `${job.status}/${job.step}`);
    return written;
  };
  return {
    report: () => {
      const perInstance: Record<number, number> = {};
      for (const n of diskReads.values()) bump(perInstance, n);
      return { ...audit, diskReadsPerInstance: perInstance };
    },
  };
}
