import type { Deps } from '../deps.js';
import { raiseEvent } from './raise-event.js';

export interface ProtectionChange {
  instanceId: string;
  change: 'protected' | 'unprotected';
  planId: string | null;
  at: number;
  /** What made the change when it was not an operator's request (a protection rule). */
  by?: string;
}

/**
 * `protection.changed`, raised after the change is stored. A failure to address the event is
 * logged and does not undo or fail the change the operator asked for.
 */
export async function raiseProtectionChanged(deps: Deps, change: ProtectionChange): Promise<void> {
  try {
    await raiseEvent(deps, {
      id: `${change.instanceId}/${change.change}/${change.at}`,
      type: 'protection.changed',
      at: change.at,
      scope: { instanceId: change.instanceId, planId: change.planId },
      subject: change.instanceId,
      data: { ...change, by: change.by ?? 'api' },
    });
  } catch (err) {
    deps.log.warn('protection.changed not raised', {
      instanceId: change.instanceId,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
