import type { OsType } from '../domain/model.js';

export {
  EcsAuthError,
  EcsBusyError,
  EcsError,
  EcsInvalidParameterError,
  EcsNotFoundError,
  EcsQuotaError,
  EcsThrottledError,
  EcsTokenReusedError,
  EcsUnreachableError,
  EcsUnsupportedError,
  type EcsErrorDetails,
} from './ecs-errors.js';

/**
 * What the product needs from ECS (API version 2014-05-26), named for the domain.
 * One adapter: the official SDK, pointed at the real endpoint or at the local emulator.
 * Batching limits (10 groups, 100 snapshots/instances/disks per call) are the adapter's concern.
 */

export type InstanceStatus = 'Pending' | 'Running' | 'Starting' | 'Stopping' | 'Stopped';
export type DiskStatus = 'In_use' | 'Available' | 'Attaching' | 'Detaching' | 'Creating' | 'ReIniting';
export type SnapshotStatus = 'progressing' | 'accomplished' | 'failed';

export interface Tag {
  key: string;
  value: string;
}

export interface EcsInstance {
  instanceId: string;
  instanceName: string;
  status: InstanceStatus;
  osType: OsType;
  osName: string;
  zoneId: string;
  regionId: string;
  tags: Tag[];
  /** What a clone of the instance is launched with; absent where an answer lacks them. */
  instanceType?: string;
  vSwitchId?: string;
  securityGroupIds?: string[];
}

export interface EcsDisk {
  diskId: string;
  diskName: string;
  instanceId: string | null;
  zoneId: string;
  type: 'system' | 'data';
  /** cloud_essd, cloud_auto, cloud_essd_entry, cloud_ssd, cloud_efficiency, cloud ... */
  category: string;
  sizeGiB: number;
  status: DiskStatus;
  device: string | null;
  tags: Tag[];
  /** The snapshot the disk was created from, if any. */
  sourceSnapshotId: string | null;
}

export interface EcsSnapshot {
  snapshotId: string;
  snapshotName: string;
  sourceDiskId: string;
  sourceDiskType: 'system' | 'data';
  sourceDiskSizeGiB: number;
  status: SnapshotStatus;
  /** 0..100 */
  progress: number;
  createdAt: number;
  tags: Tag[];
  /** none | image | disk | image_disk */
  usage: string;
}

export interface EcsSnapshotGroup {
  snapshotGroupId: string;
  instanceId: string;
  status: SnapshotStatus;
  snapshots: EcsSnapshot[];
  tags: Tag[];
}

export type ScriptType = 'RunShellScript' | 'RunPowerShellScript';

export type InvocationStatus =
  | 'Pending'
  | 'Invalid'
  | 'Aborted'
  | 'Running'
  | 'Success'
  | 'Failed'
  | 'Error'
  | 'Timeout'
  | 'Cancelled'
  | 'Stopping'
  | 'Terminated'
  | 'Scheduled';

export interface InvocationResult {
  invokeId: string;
  instanceId: string;
  status: InvocationStatus;
  exitCode: number | null;
  /** Decoded output (the adapter decodes base64). */
  output: string;
  errorCode: string | null;
  errorInfo: string | null;
  finishedAt: number | null;
}

export interface CreateSnapshotGroupRequest {
  instanceId: string;
  diskIds: string[];
  name: string;
  description?: string;
  tags: Tag[];
  /** <= 64 ASCII; derived from the job. */
  clientToken: string;
}

export interface CreateSnapshotRequest {
  diskId: string;
  name: string;
  description?: string;
  tags: Tag[];
  clientToken: string;
}

export interface CreateDiskRequest {
  zoneId: string;
  snapshotId: string;
  category: string;
  name: string;
  tags: Tag[];
  clientToken: string;
}

export interface CopySnapshotRequest {
  /** A snapshot of this port's region. */
  snapshotId: string;
  destinationRegionId: string;
  name: string;
  description?: string;
  tags: Tag[];
  clientToken: string;
  /** Encrypt the copy; a copy of an encrypted snapshot is encrypted whatever this says (ECS rule). */
  encrypted?: boolean;
  /** A KMS key of the destination region (only with encryption). */
  kmsKeyId?: string;
}

export interface RunCommandRequest {
  instanceId: string;
  type: ScriptType;
  /** Plain text; the adapter encodes it. */
  content: string;
  timeoutSeconds: number;
  name: string;
  clientToken: string;
}

/** Creating | Available | CreateFailed | UnAvailable | Waiting | Deprecated */
export type ImageStatus = string;

export interface EcsImage {
  imageId: string;
  imageName: string;
  status: ImageStatus;
  /** 0..100 */
  progress: number;
  tags: Tag[];
  /** Snapshots of its disk mappings, the system disk's first. */
  snapshotIds: string[];
}

export interface CreateImageRequest {
  systemSnapshotId: string;
  /** Data-disk snapshots, as the image's further disk mappings. */
  dataSnapshotIds: string[];
  name: string;
  description?: string;
  tags: Tag[];
  clientToken: string;
}

/** One instance from an image. There is no password: log-in is by key pair or set by the owner later. */
export interface RunInstanceRequest {
  imageId: string;
  instanceType: string;
  vSwitchId: string;
  securityGroupIds: string[];
  instanceName?: string;
  hostName?: string;
  keyPairName?: string;
  tags: Tag[];
  clientToken: string;
}

export interface EcsVSwitch {
  vSwitchId: string;
  zoneId: string;
}

export interface Ecs {
  readonly regionId: string;
  /** The same port on another region's inventory (same credentials and limits). */
  forRegion(regionId: string): Ecs;
  describeInstances(instanceIds?: string[]): Promise<EcsInstance[]>;
  /**
   * Every instance carrying all of `tags` (and in `zoneId` when given): DescribeInstances with
   * `Tag.N.Key/Value` filters, 100 a page by NextToken, so the cost grows with the instances that
   * match, not with the region. ECS documents at most 1,000 matching instances for a tag filter.
   */
  describeInstancesByTags(tags: Tag[], zoneId?: string): Promise<EcsInstance[]>;
  /** Disks attached to the instance now. */
  describeInstanceDisks(instanceId: string): Promise<EcsDisk[]>;
  describeDisks(diskIds: string[]): Promise<EcsDisk[]>;

  createSnapshotGroup(request: CreateSnapshotGroupRequest): Promise<string>;
  /**
   * A signed CreateSnapshotGroup request URL that someone without credentials (the guest
   * script, while file systems are frozen) can send once within its validity window.
   */
  presignCreateSnapshotGroup(request: CreateSnapshotGroupRequest): Promise<string>;
  describeSnapshotGroups(snapshotGroupIds: string[]): Promise<EcsSnapshotGroup[]>;
  /** Snapshot groups created with the given ClientToken-derived name or tag, for recovery after a crash. */
  findSnapshotGroupsByTag(tag: Tag, instanceId?: string): Promise<EcsSnapshotGroup[]>;
  deleteSnapshotGroup(snapshotGroupId: string): Promise<void>;

  createSnapshot(request: CreateSnapshotRequest): Promise<string>;
  describeSnapshots(snapshotIds: string[]): Promise<EcsSnapshot[]>;
  findSnapshotsByTag(tag: Tag, diskId?: string): Promise<EcsSnapshot[]>;
  deleteSnapshot(snapshotId: string, force?: boolean): Promise<void>;
  /** Starts copying a snapshot of this region into another one; answers the copy's id there. */
  copySnapshot(request: CopySnapshotRequest): Promise<string>;

  createDisk(request: CreateDiskRequest): Promise<string>;
  attachDisk(diskId: string, instanceId: string): Promise<void>;
  detachDisk(diskId: string, instanceId: string): Promise<void>;
  deleteDisk(diskId: string): Promise<void>;
  resetDisk(diskId: string, snapshotId: string): Promise<void>;
  startInstance(instanceId: string): Promise<void>;
  stopInstance(instanceId: string): Promise<void>;

  cloudAssistantStatus(instanceIds: string[]): Promise<Record<string, boolean>>;
  installCloudAssistant(instanceIds: string[]): Promise<void>;
  runCommand(request: RunCommandRequest): Promise<{ invokeId: string }>;
  describeInvocationResults(invokeIds: string[]): Promise<InvocationResult[]>;

  createImage(request: CreateImageRequest): Promise<string>;
  /** Our custom images by id, whatever their status (ECS lists only Available ones unless asked). */
  describeImages(imageIds: string[]): Promise<EcsImage[]>;
  findImagesByTag(tag: Tag): Promise<EcsImage[]>;
  /** Deleting an image that is gone succeeds. */
  deleteImage(imageId: string): Promise<void>;
  runInstance(request: RunInstanceRequest): Promise<string>;
  /** Instances carrying the tag, whatever their status. */
  findInstancesByTag(tag: Tag): Promise<EcsInstance[]>;
  describeInstanceAttribute(instanceId: string): Promise<EcsInstance | null>;
  /** Instance types the zone sells now (DescribeAvailableResource). */
  availableInstanceTypes(zoneId: string): Promise<string[]>;
  /** vSwitches by id (VPC DescribeVSwitches); an unknown id is absent from the answer. */
  describeVSwitches(vSwitchIds: string[]): Promise<EcsVSwitch[]>;
  /** Releases an instance this product launched (ForceStop, so a Running clone goes too). */
  deleteInstance(instanceId: string): Promise<void>;
  /** Disks of the region carrying the tag (DescribeDisks with a tag filter), whatever their status. */
  findDisksByTag(tag: Tag): Promise<EcsDisk[]>;
}
