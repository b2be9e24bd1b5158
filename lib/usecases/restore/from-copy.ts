import type { JobKind, StepContext } from '../jobs/job-kind.js';
import type { Job } from '../../domain/model.js';
import type { Deps } from '../deps.js';
import { conflict, invalid, notFound, ok, type Outcome } from '../management/outcome.js';
import { attachable, type ResolvedRecovery } from './check.js';
import type { RestoreParams } from './state.js';

/**
 * Clone a disk from the backup's copy in another region onto an instance of that region. ECS lets a
 * copy make disks in its region but roll back none (a copy is no snapshot of any disk there), so
 * clone-disk is the one mode; the request schema refuses the others.
 */
export async function checkCloneFromCopy(
  deps: Pick<Deps, 'store' | 'ecs'>,
  params: RestoreParams,
  regionId: string,
): Promise<Outcome<ResolvedRecovery>> {
  const point = await deps.store.points.get(params.backupId);
  if (!point) return notFound('backup', params.backupId);
  if (point.status !== 'AVAILABLE' && point.status !== 'COPIES_ONLY') {
    return conflict(
      `backup ${point.id} is ${point.status}; only an AVAILABLE or COPIES_ONLY backup can be restored from a copy`,
    );
  }
  const copy = point.copies?.find((c) => c.regionId === regionId);
  if (!copy || copy.status !== 'available') {
    const has = (point.copies ?? []).filter((c) => c.status === 'available').map((c) => c.regionId);
    return conflict(
      `backup ${point.id} has no completed copy in ${regionId}${copy ? ` (it is ${copy.status})` : ''}; ` +
        `copies available in: ${has.length > 0 ? has.join(', ') : 'none'}`,
      'regionId',
    );
  }
  const index = point.snapshots.findIndex((s) => s.diskId === params.diskId);
  const source = point.snapshots[index];
  if (!source) {
    const held = point.snapshots.map((x) => x.diskId).join(', ');
    return invalid([
      {
        path: 'diskId',
        message: `backup ${point.id} holds no snapshot of ${params.diskId}; it holds ${held}`,
      },
    ]);
  }
  const [instance] = await deps.ecs.forRegion(regionId).describeInstances([params.targetInstanceId ?? '']);
  if (!instance) return notFound('ECS instance', `${params.targetInstanceId ?? ''} (in ${regionId})`);
  const usable = attachable(instance);
  if (usable) return conflict(usable);
  const snapshotId = copy.snapshotIds[index] ?? '';
  return ok({ point, targets: [{ diskId: source.diskId, snapshotId, category: source.category }], instance });
}

/** The step context with ECS seen from another region; writes to the context (the job) go through. */
function inRegion(ctx: StepContext, regionId: string): StepContext {
  const deps = { ...ctx.deps, ecs: ctx.deps.ecs.forRegion(regionId) };
  return new Proxy(ctx, {
    get: (target, prop, receiver) => (prop === 'deps' ? deps : Reflect.get(target, prop, receiver)),
  });
}

/**
 * The kind with every step, cancel rule and release run against the region the job names
 * (`regionOf`), or as declared when it names none. The steps stay the same code.
 */
export function regional(kind: JobKind, regionOf: (job: Job) => string | undefined): JobKind {
  type Fn<R> = (ctx: StepContext, job: Job) => R;
  const wrap =
    <R>(fn: Fn<R>): Fn<R> =>
    (ctx, job) => {
      const region = regionOf(job);
      return fn(region === undefined ? ctx : inRegion(ctx, region), job);
    };
  return {
    ...kind,
    steps: Object.fromEntries(Object.entries(kind.steps).map(([name, step]) => [name, wrap(step)])),
    ...(kind.cancel
      ? { cancel: Object.fromEntries(Object.entries(kind.cancel).map(([name, rule]) => [name, wrap(rule)])) }
      : {}),
    holds: kind.holds.map((r) => ({ ...r, release: wrap(r.release.bind(r)) })),
  };
}
