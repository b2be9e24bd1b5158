import type { BackupPoint, JobType } from '../../domain/model.js';
import type { EcsInstance } from '../../ports/ecs.js';
import type { Deps } from '../deps.js';
import { conflict, invalid, notFound, ok, type Outcome } from '../management/outcome.js';
import { checkCloneFromCopy } from './from-copy.js';
import type { MountParams, RecoveryTarget, RestoreParams } from './state.js';

export interface ResolvedRecovery {
  point: BackupPoint;
  targets: RecoveryTarget[];
  /** Rollback: the instance whose disks are reset; clone and mount: the instance that gets the disk. */
  instance: EcsInstance;
}

type CheckDeps = Pick<Deps, 'store' | 'ecs'>;

const ACTIVE = ['QUEUED', 'RUNNING', 'CANCELING'] as const;

async function usablePoint(deps: CheckDeps, backupId: string): Promise<Outcome<BackupPoint>> {
  const point = await deps.store.points.get(backupId);
  if (!point) return notFound('backup', backupId);
  if (point.status !== 'AVAILABLE') {
    return conflict(
      `backup ${backupId} is ${point.status}; only an AVAILABLE backup can be restored or mounted`,
    );
  }
  return ok(point);
}

function targetOf(point: BackupPoint, diskId: string): Outcome<RecoveryTarget> {
  const s = point.snapshots.find((x) => x.diskId === diskId);
  if (!s) {
    const held = point.snapshots.map((x) => x.diskId).join(', ');
    return invalid([
      { path: 'diskId', message: `backup ${point.id} holds no snapshot of ${diskId}; it holds ${held}` },
    ]);
  }
  return ok({ diskId: s.diskId, snapshotId: s.snapshotId, category: s.category });
}

async function instanceOf(deps: CheckDeps, instanceId: string): Promise<Outcome<EcsInstance>> {
  const [instance] = await deps.ecs.describeInstances([instanceId]);
  return instance ? ok(instance) : notFound('ECS instance', instanceId);
}

async function otherActiveJob(
  deps: CheckDeps,
  type: JobType,
  instanceId: string,
  selfJobId: string | undefined,
  statuses: readonly (typeof ACTIVE)[number][],
): Promise<string | null> {
  const page = await deps.store.jobs.list({ type, instanceId, status: [...statuses] }, { limit: 10 });
  return page.items.find((j) => j.id !== selfJobId)?.id ?? null;
}

/**
 * Everything a restore needs that can be read before anything is written: the point usable, the
 * disk in it, the instance there, and for a rollback its disks still attached and nothing else
 * writing to them. The API answers the refusals as 4xx; the job re-checks at its start, because the
 * world may have changed while it was queued, and fails with the same words.
 */
export async function checkRestore(
  deps: CheckDeps,
  params: RestoreParams,
  options: { selfJobId?: string; requireStopped: boolean },
): Promise<Outcome<ResolvedRecovery>> {
  if (params.regionId !== undefined) return checkCloneFromCopy(deps, params, params.regionId);
  const point = await usablePoint(deps, params.backupId);
  if (!point.ok) return point;
  let targets: RecoveryTarget[];
  if (params.mode === 'rollback-instance') {
    targets = point.value.snapshots.map((s) => ({
      diskId: s.diskId,
      snapshotId: s.snapshotId,
      category: s.category,
    }));
  } else {
    const target = targetOf(point.value, params.diskId ?? '');
    if (!target.ok) return target;
    targets = [target.value];
  }
  if (params.mode === 'clone-disk') {
    const instance = await instanceOf(deps, params.targetInstanceId ?? '');
    if (!instance.ok) return instance;
    const usable = attachable(instance.value);
    if (usable) return conflict(usable);
    return ok({ point: point.value, targets, instance: instance.value });
  }

  const instance = await instanceOf(deps, point.value.instanceId);
  if (!instance.ok) return instance;
  const disks = await deps.ecs.describeDisks(targets.map((t) => t.diskId));
  for (const t of targets) {
    const d = disks.find((x) => x.diskId === t.diskId);
    if (!d) {
      return conflict(
        `disk ${t.diskId} of backup ${point.value.id} no longer exists; clone it from the backup instead (mode clone-disk)`,
      );
    }
    if (d.instanceId !== null && d.instanceId !== point.value.instanceId) {
      return conflict(
        `disk ${t.diskId} is now attached to ${d.instanceId}, not to ${point.value.instanceId}; detach it or clone the backup instead`,
      );
    }
  }
  const status = instance.value.status;
  if (options.requireStopped && status !== 'Stopped') {
    if (!params.stopInstance) {
      return conflict(
        `instance ${instance.value.instanceId} is ${status}; a rollback needs it Stopped: stop it first, or send stopInstance: true to let the job stop it and start it again after`,
      );
    }
    if (status !== 'Running' && status !== 'Stopping') {
      return conflict(
        `instance ${instance.value.instanceId} is ${status}; retry once it is Running or Stopped`,
      );
    }
  }
  const backup = await otherActiveJob(deps, 'backup', point.value.instanceId, options.selfJobId, [
    'RUNNING',
    'CANCELING',
  ]);
  if (backup) {
    return conflict(
      `a backup of ${point.value.instanceId} is in progress (job ${backup}); a disk cannot be rolled back while its snapshot is taken: retry when it has finished`,
    );
  }
  const restore = await otherActiveJob(deps, 'restore', point.value.instanceId, options.selfJobId, ACTIVE);
  if (restore) {
    return conflict(
      `another restore of ${point.value.instanceId} is in progress (job ${restore}); wait for it`,
    );
  }
  return ok({ point: point.value, targets, instance: instance.value });
}

/** A disk is attached only to a Running or Stopped instance (ECS AttachDisk). */
export function attachable(instance: EcsInstance): string | null {
  if (instance.status === 'Running' || instance.status === 'Stopped') return null;
  return `instance ${instance.instanceId} is ${instance.status}; a disk can be attached only to a Running or Stopped instance: retry later`;
}

export async function checkMount(deps: CheckDeps, params: MountParams): Promise<Outcome<ResolvedRecovery>> {
  const point = await usablePoint(deps, params.backupId);
  if (!point.ok) return point;
  const target = targetOf(point.value, params.diskId);
  if (!target.ok) return target;
  const instance = await instanceOf(deps, params.targetInstanceId);
  if (!instance.ok) return instance;
  const usable = attachable(instance.value);
  if (usable) return conflict(usable);
  return ok({ point: point.value, targets: [target.value], instance: instance.value });
}

/** A refusal as the sentence a FAILED job carries. */
export function refusalReason(outcome: Exclude<Outcome<unknown>, { ok: true }>): string {
  switch (outcome.error) {
    case 'not_found':
      return `${outcome.resource} ${outcome.id} does not exist`;
    case 'conflict':
      return outcome.detail;
    case 'invalid':
      return outcome.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  }
}
