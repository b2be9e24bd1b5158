import type { PointSource } from '../../domain/model.js';
import type { EcsInstance } from '../../ports/ecs.js';
import type { Deps } from '../deps.js';

/**
 * The instance as a backup finds it, kept on the point so that a clone works after the instance is
 * gone. It is read where the instance is read anyway (the API's checks) or in one call per 100
 * plans (the scheduler tick), never by the backup job: the job's ECS calls are budgeted.
 */
export function pointSource(instance: EcsInstance): PointSource {
  return {
    instanceName: instance.instanceName,
    zoneId: instance.zoneId,
    osType: instance.osType,
    instanceType: instance.instanceType ?? null,
    vSwitchId: instance.vSwitchId ?? null,
    securityGroupIds: instance.securityGroupIds ?? [],
    // Our own tags name the job that made a resource: a clone gets its own.
    tags: instance.tags.filter((t) => !t.key.startsWith('ecs-backup:')),
  };
}

/** Sources of many instances in calls of 100; an ECS failure leaves them unknown (the backup goes on). */
export async function pointSources(
  deps: Pick<Deps, 'ecs' | 'log'>,
  instanceIds: string[],
): Promise<Map<string, PointSource>> {
  if (instanceIds.length === 0) return new Map();
  try {
    const found = await deps.ecs.describeInstances([...new Set(instanceIds)]);
    return new Map(found.map((i) => [i.instanceId, pointSource(i)]));
  } catch (err) {
    deps.log.warn('instances not read for their backups; those points record no source', {
      error: err instanceof Error ? err.message : String(err),
    });
    return new Map();
  }
}
