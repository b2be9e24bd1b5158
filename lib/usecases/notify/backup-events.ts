import type { BackupPoint } from '../../domain/model.js';
import type { Deps } from '../deps.js';
import { allSubscriptions, raiseEvent } from './raise-event.js';

/**
 * A function that raises `backup.expired` for one point of a retention sweep. The subscriptions are
 * read once per sweep (not once per point), and not at all when nothing expires or nobody listens.
 */
export async function backupExpiredRaiser(
  deps: Deps,
  expiring: number,
): Promise<(point: BackupPoint, reason: string) => Promise<void>> {
  const listeners =
    expiring === 0 ? [] : (await allSubscriptions(deps)).filter((s) => s.events.includes('backup.expired'));
  if (listeners.length === 0) return async () => {};
  return async (point, reason) => {
    await raiseEvent(
      deps,
      {
        id: `${point.id}/expired`,
        type: 'backup.expired',
        at: deps.clock.now(),
        scope: { instanceId: point.instanceId, planId: point.planId },
        subject: point.id,
        data: { backupId: point.id, instanceId: point.instanceId, planId: point.planId, reason },
      },
      listeners,
    );
  };
}

/**
 * Raises an event about one backup (`backup.lock-drift`, `backup.verification-failed`, ...). `fact`
 * names what happened so that raising it again for the same occurrence is the same event; a
 * failure to address it is logged and changes nothing the caller did.
 */
export async function raiseBackupEvent(
  deps: Deps,
  type: 'backup.lock-drift' | 'backup.verification-failed',
  point: BackupPoint,
  fact: string,
  data: Record<string, unknown>,
): Promise<void> {
  try {
    await raiseEvent(deps, {
      id: `${point.id}/${type}/${fact}`,
      type,
      at: deps.clock.now(),
      scope: { instanceId: point.instanceId, planId: point.planId },
      subject: point.id,
      data: { backupId: point.id, instanceId: point.instanceId, planId: point.planId, ...data },
    });
  } catch (err) {
    deps.log.warn(`${type} not raised`, {
      backupId: point.id,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
