import type { VerifyRule } from '../../domain/verification.js';
import type { EcsInstance } from '../../ports/ecs.js';
import type { Deps } from '../deps.js';
import { invalid, type Refusal } from '../management/outcome.js';

/**
 * A plan's chosen helper must exist and sit in the zone of the instance it verifies: disks made from
 * its snapshots can only be attached there. Whether it runs is checked when a verification starts
 * (it may be stopped now and running then). `path` is where `verify` sits in the request body.
 */
export async function refuseVerifyHelper(
  deps: Pick<Deps, 'ecs'>,
  instance: EcsInstance,
  verify: VerifyRule | null | undefined,
  path: string,
): Promise<Refusal | null> {
  if (verify && instance.osType !== 'linux') {
    return invalid([
      {
        path: path,
        message: `instance ${instance.instanceId} runs ${instance.osType}; only Linux backups can be verified`,
      },
    ]);
  }
  const helperId = verify?.helperInstanceId;
  if (!helperId || helperId === instance.instanceId) return null;
  const field = `${path}.helperInstanceId`;
  const [helper] = await deps.ecs.describeInstances([helperId]);
  if (!helper || helper.instanceId !== helperId) {
    return invalid([{ path: field, message: `instance ${helperId} was not found in this region` }]);
  }
  if (helper.zoneId !== instance.zoneId) {
    return invalid([
      {
        path: field,
        message: `instance ${helperId} is in zone ${helper.zoneId}, but the backups of ${instance.instanceId} are in zone ${instance.zoneId}: a helper must be in the same zone`,
      },
    ]);
  }
  if (helper.osType !== 'linux') {
    return invalid([
      { path: field, message: `instance ${helperId} runs ${helper.osType}; a helper must run Linux` },
    ]);
  }
  return null;
}
