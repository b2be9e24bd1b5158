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
