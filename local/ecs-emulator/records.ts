import type { DiskStatus, InstanceStatus, OsType, SnapshotStatus } from './types.js';

/** Stored entities. Transitional states carry `pending` and settle lazily on read. */

export interface MountRecord {
  device: string;
  mountPoint: string;
  fsType: string;
  options: string;
  diskId: string | null;
  /** Mounted by a guest script through the mount shim. */
  dynamic: boolean;
}

export interface InstanceRecord {
  instanceId: string;
  instanceName: string;
  osType: OsType;
  osName: string;
  zoneId: string;
  instanceType: string;
  status: InstanceStatus;
  /** `after`: a second transition that follows (a new instance goes Pending, Starting, Running). */
  pending: { until: number; then: InstanceStatus; after?: { until: number; then: InstanceStatus } } | null;
  everStarted: boolean;
  lockReason: string | null;
  agentInstalled: boolean;
  /** InstallCloudAssistant was called; effective after the next (re)start. */
  agentInstallPending: boolean;
  agentResponsive: boolean;
  tags: Record<string, string>;
  mounts: MountRecord[];
  creationTime: number;
  startTime: number;
  invocationCount: number;
  lastInvokedTime: number | null;
  /** Network and launch facts; absent in state saved by older runs (defaults derive from the zone). */
  vSwitchId?: string;
  securityGroupIds?: string[];
  hostName?: string;
  keyPairName?: string | null;
  imageId?: string;
}

export interface DiskPending {
  status: DiskStatus;
  until: number;
  /** State after the transition. */
  then: { status: 'In_use' | 'Available'; instanceId: string | null; device: string | null };
}

export interface DiskRecord {
  diskId: string;
  diskName: string;
  description: string;
  zoneId: string;
  category: string;
  performanceLevel: string | null;
  sizeGiB: number;
  type: 'system' | 'data';
  status: 'In_use' | 'Available';
  instanceId: string | null;
  device: string | null;
  pending: DiskPending | null;
  sourceSnapshotId: string | null;
  everAttached: boolean;
  usedBytes: number;
  tags: Record<string, string>;
  creationTime: number;
  attachedTime: number | null;
  detachedTime: number | null;
  deleteWithInstance: boolean;
  /** False for synthetic bulk-seeded disks: their tree folder is created on first use. */
  hasTree: boolean;
}

export interface SnapshotRecord {
  snapshotId: string;
  snapshotName: string;
  description: string;
  sourceDiskId: string;
  sourceDiskType: 'System' | 'Data';
  sourceDiskSizeGiB: number;
  sourceDiskCategory: string;
  instanceId: string | null;
  snapshotGroupId: string | null;
  createdAt: number;
  durationMs: number;
  /** Forced completion time (admin `completeSnapshots`). */
  completedAt: number | null;
  failAtPercent: number | null;
  retentionDays: number | null;
  dataBytes: number;
  tags: Record<string, string>;
  hasTree: boolean;
  /** Absent in records written before encryption was modelled: not encrypted. */
  encrypted?: boolean;
  /** The KMS key of an encrypted snapshot; null = the region's service key. */
  kmsKeyId?: string | null;
  /** Set on a copy made by CopySnapshot. */
  copiedFrom?: { regionId: string; snapshotId: string };
}

export interface SnapshotGroupRecord {
  snapshotGroupId: string;
  name: string;
  description: string;
  instanceId: string | null;
  snapshotIds: string[];
  createdAt: number;
  tags: Record<string, string>;
  resourceGroupId: string;
}

export type InvocationInstanceStatus =
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
  | 'Terminated';

export interface InvocationInstanceRecord {
  instanceId: string;
  status: InvocationInstanceStatus;
  /** For an unresponsive agent: Pending until this time, then Aborted. */
  abortAt: number | null;
  exitCode: number | null;
  /** Base64 of the kept output (first 24 KB). */
  output: string;
  dropped: number;
  errorCode: string;
  errorInfo: string;
  startTime: number | null;
  finishTime: number | null;
}

export interface InvocationRecord {
  invokeId: string;
  commandId: string;
  name: string;
  description: string;
  type: string;
  /** Plain text. */
  content: string;
  timeoutSeconds: number;
  username: string;
  workingDir: string;
  createdAt: number;
  instances: InvocationInstanceRecord[];
  tags: Record<string, string>;
}

export interface TokenRecord {
  key: string;
  hash: string;
  response: Record<string, unknown>;
  at: number;
}

export interface SnapshotView {
  status: SnapshotStatus;
  progress: number;
  remainSeconds: number;
}
