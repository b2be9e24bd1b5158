import type { DiskSelection } from '../../domain/model.js';
import type { EcsDisk, EcsInstance } from '../../ports/ecs.js';
import type { Deps } from '../deps.js';
import type { Outcome } from './outcome.js';
import { invalid, notFound, ok } from './outcome.js';

/**
 * The instance must exist in the region and every listed disk must be attached to it now; `all` is
 * resolved when each backup starts, so it needs no check here.
 */
export async function checkInstanceDisks(
  deps: Pick<Deps, 'ecs'>,
  instanceId: string,
  disks: DiskSelection | undefined,
  diskPath = 'disks',
): Promise<Outcome<{ instance: EcsInstance; attached: EcsDisk[] | null }>> {
  const [instance] = await deps.ecs.describeInstances([instanceId]);
  if (instance === undefined || instance.instanceId !== instanceId)
    return notFound('ECS instance', instanceId);
  if (disks === undefined || disks === 'all') return ok({ instance, attached: null });
  const attached = await deps.ecs.describeInstanceDisks(instanceId);
  const ids = new Set(attached.map((d) => d.diskId));
  const issues = disks.flatMap((diskId, i) =>
    ids.has(diskId)
      ? []
      : [{ path: `${diskPath}[${i}]`, message: `disk ${diskId} is not attached to ${instanceId}` }],
  );
  return issues.length > 0 ? invalid(issues) : ok({ instance, attached });
}
