import EcsDefault, * as EcsModels from '@alicloud/ecs20140526';
import * as $OpenApi from '@alicloud/openapi-client';
import type { EcsEmulator } from '../../local/ecs-emulator/index.js';

/**
 * The official typed ECS client pointed at an emulator, for tests that change the cloud as an
 * operator would (tags added and removed with TagResources / UntagResources).
 */
type ClientClass = typeof EcsDefault.default;
const EcsClientClass = (typeof EcsDefault === 'function' ? EcsDefault : EcsDefault.default) as ClientClass;
export type EcsSdkClient = InstanceType<ClientClass>;

export function ecsSdkClient(emu: EcsEmulator): EcsSdkClient {
  return new EcsClientClass(
    new $OpenApi.Config({
      accessKeyId: emu.accessKeyId,
      accessKeySecret: emu.accessKeySecret,
      endpoint: emu.endpoint,
      protocol: 'http',
      regionId: emu.regionId,
    }),
  );
}

export async function tagInstance(
  client: EcsSdkClient,
  emu: EcsEmulator,
  instanceId: string,
  tags: Record<string, string>,
): Promise<void> {
  await client.tagResources(
    new EcsModels.TagResourcesRequest({
      regionId: emu.regionId,
      resourceType: 'instance',
      resourceId: [instanceId],
      tag: Object.entries(tags).map(([key, value]) => new EcsModels.TagResourcesRequestTag({ key, value })),
    }),
  );
}

export async function untagInstance(
  client: EcsSdkClient,
  emu: EcsEmulator,
  instanceId: string,
  keys: string[],
): Promise<void> {
  await client.untagResources(
    new EcsModels.UntagResourcesRequest({
      regionId: emu.regionId,
      resourceType: 'instance',
      resourceId: [instanceId],
      tagKey: keys,
    }),
  );
}
