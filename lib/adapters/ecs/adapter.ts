import type { Clock } from '../../ports/clock.js';
import type {
  CopySnapshotRequest,
  CreateDiskRequest,
  CreateImageRequest,
  EcsImage,
  EcsVSwitch,
  RunInstanceRequest,
  CreateSnapshotGroupRequest,
  CreateSnapshotRequest,
  Ecs,
  EcsDisk,
  EcsInstance,
  EcsSnapshot,
  EcsSnapshotGroup,
  InvocationResult,
  RunCommandRequest,
  Tag,
} from '../../ports/ecs.js';
import { EcsCaller } from './caller.js';
import * as guest from './guest.js';
import * as inventory from './inventory.js';
import * as launch from './launch.js';
import type { LaunchRpc } from './launch.js';
import * as snapshots from './snapshots.js';
import type { EcsRpcClient } from './rpc-client.js';

export { BATCH_LIMITS } from './caller.js';

/** The `Ecs` port; each call lives with its concept (inventory, snapshots, guest). */
/** The RPC client that serves a region (ECS endpoints are regional). */
export type RegionalRpc = (regionId: string) => EcsRpcClient;

export class EcsAdapter implements Ecs {
  private readonly c: EcsCaller;
  private readonly launch: LaunchRpc;
  private readonly views = new Map<string, EcsAdapter>();

  constructor(
    rpc: EcsRpcClient,
    readonly regionId: string,
    private readonly clock: Clock,
    private readonly vpc: EcsRpcClient = rpc,
    private readonly rpcFor: RegionalRpc = () => rpc,
  ) {
    const c = new EcsCaller(rpc, regionId, clock);
    this.c = c;
    this.launch = {
      regionId,
      call: (action, query) => rpc.call(action, query),
      callVpc: (action, query) => vpc.call(action, query),
      paged: (action, query, extract) => c.paged(action, query, extract),
    };
  }

  /** The same account's ECS in another region (copies of backups live there). */
  forRegion(regionId: string): EcsAdapter {
    if (regionId === this.regionId) return this;
    let view = this.views.get(regionId);
    if (!view) {
      view = new EcsAdapter(this.rpcFor(regionId), regionId, this.clock, this.vpc, this.rpcFor);
      this.views.set(regionId, view);
    }
    return view;
  }
  copySnapshot(request: CopySnapshotRequest): Promise<string> {
    return snapshots.copySnapshot(this.c, request);
  }

  // Images and launching instances (clone-instance)
  createImage(request: CreateImageRequest): Promise<string> {
    return launch.createImage(this.launch, request);
  }
  describeImages(imageIds: string[]): Promise<EcsImage[]> {
    return launch.describeImages(this.launch, imageIds);
  }
  findImagesByTag(tag: Tag): Promise<EcsImage[]> {
    return launch.findImagesByTag(this.launch, tag);
  }
  deleteImage(imageId: string): Promise<void> {
    return launch.deleteImage(this.launch, imageId);
  }
  runInstance(request: RunInstanceRequest): Promise<string> {
    return launch.runInstance(this.launch, request);
  }
  findInstancesByTag(tag: Tag): Promise<EcsInstance[]> {
    return launch.findInstancesByTag(this.launch, tag);
  }
  describeInstanceAttribute(instanceId: string): Promise<EcsInstance | null> {
    return launch.describeInstanceAttribute(this.launch, instanceId);
  }
  availableInstanceTypes(zoneId: string): Promise<string[]> {
    return launch.availableInstanceTypes(this.launch, zoneId);
  }
  describeVSwitches(vSwitchIds: string[]): Promise<EcsVSwitch[]> {
    return launch.describeVSwitches(this.launch, vSwitchIds);
  }
  deleteInstance(instanceId: string): Promise<void> {
    return launch.deleteInstance(this.launch, instanceId);
  }

  // Instances and disks
  describeInstances(instanceIds?: string[]): Promise<EcsInstance[]> {
    return inventory.describeInstances(this.c, instanceIds);
  }
  describeInstancesByTags(tags: Tag[], zoneId?: string): Promise<EcsInstance[]> {
    return inventory.describeInstancesByTags(this.c, tags, zoneId);
  }
  describeInstanceDisks(instanceId: string): Promise<EcsDisk[]> {
    return inventory.describeInstanceDisks(this.c, instanceId);
  }
  describeDisks(diskIds: string[]): Promise<EcsDisk[]> {
    return inventory.describeDisks(this.c, diskIds);
  }
  findDisksByTag(tag: Tag): Promise<EcsDisk[]> {
    return inventory.findDisksByTag(this.c, tag);
  }
  createDisk(request: CreateDiskRequest): Promise<string> {
    return inventory.createDisk(this.c, request);
  }
  attachDisk(diskId: string, instanceId: string): Promise<void> {
    return inventory.attachDisk(this.c, diskId, instanceId);
  }
  detachDisk(diskId: string, instanceId: string): Promise<void> {
    return inventory.detachDisk(this.c, diskId, instanceId);
  }
  deleteDisk(diskId: string): Promise<void> {
    return inventory.deleteDisk(this.c, diskId);
  }
  resetDisk(diskId: string, snapshotId: string): Promise<void> {
    return inventory.resetDisk(this.c, diskId, snapshotId);
  }
  startInstance(instanceId: string): Promise<void> {
    return inventory.startInstance(this.c, instanceId);
  }
  stopInstance(instanceId: string): Promise<void> {
    return inventory.stopInstance(this.c, instanceId);
  }

  // Snapshot groups and snapshots
  createSnapshotGroup(request: CreateSnapshotGroupRequest): Promise<string> {
    return snapshots.createSnapshotGroup(this.c, request);
  }
  presignCreateSnapshotGroup(request: CreateSnapshotGroupRequest): Promise<string> {
    return snapshots.presignCreateSnapshotGroup(this.c, request);
  }
  describeSnapshotGroups(snapshotGroupIds: string[]): Promise<EcsSnapshotGroup[]> {
    return snapshots.describeSnapshotGroups(this.c, snapshotGroupIds);
  }
  findSnapshotGroupsByTag(tag: Tag, instanceId?: string): Promise<EcsSnapshotGroup[]> {
    return snapshots.findSnapshotGroupsByTag(this.c, tag, instanceId);
  }
  deleteSnapshotGroup(snapshotGroupId: string): Promise<void> {
    return snapshots.deleteSnapshotGroup(this.c, snapshotGroupId);
  }
  createSnapshot(request: CreateSnapshotRequest): Promise<string> {
    return snapshots.createSnapshot(this.c, request);
  }
  describeSnapshots(snapshotIds: string[]): Promise<EcsSnapshot[]> {
    return snapshots.describeSnapshots(this.c, snapshotIds);
  }
  findSnapshotsByTag(tag: Tag, diskId?: string): Promise<EcsSnapshot[]> {
    return snapshots.findSnapshotsByTag(this.c, tag, diskId);
  }
  deleteSnapshot(snapshotId: string, force?: boolean): Promise<void> {
    return snapshots.deleteSnapshot(this.c, snapshotId, force);
  }

  // Cloud Assistant
  cloudAssistantStatus(instanceIds: string[]): Promise<Record<string, boolean>> {
    return guest.cloudAssistantStatus(this.c, instanceIds);
  }
  installCloudAssistant(instanceIds: string[]): Promise<void> {
    return guest.installCloudAssistant(this.c, instanceIds);
  }
  runCommand(request: RunCommandRequest): Promise<{ invokeId: string }> {
    return guest.runCommand(this.c, request);
  }
  describeInvocationResults(invokeIds: string[]): Promise<InvocationResult[]> {
    return guest.describeInvocationResults(this.c, invokeIds);
  }
}
