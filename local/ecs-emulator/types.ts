import type { KeyRing } from '../sts-keys.js';

/**
 * Public shapes of the ECS emulator: start options, the seed file format and the admin API
 * (in-process and over HTTP under `/__admin/<method>` with the method's argument as JSON body).
 */

export type OsType = 'linux' | 'windows';
export type InstanceStatus = 'Pending' | 'Running' | 'Starting' | 'Stopping' | 'Stopped';
export type DiskStatus = 'In_use' | 'Available' | 'Attaching' | 'Detaching' | 'Creating' | 'ReIniting';
export type SnapshotStatus = 'progressing' | 'accomplished' | 'failed';

/** `root` = uid 0, `user` = uid 1000, or a numeric uid. */
export type FileOwner = 'root' | 'user' | number;

export interface SeedTmpFile {
  /** Path inside the instance's /tmp, e.g. `prescript.sh`. */
  path: string;
  content?: string;
  owner?: FileOwner;
  /** Octal string (`"0700"`) or number (`0o700`). Default 0644 (0755 for `.sh`). */
  mode?: string | number;
  /** Makes the entry a symbolic link to this target instead of a regular file. */
  symlink?: string;
}

export interface SeedMount {
  device: string;
  mountPoint: string;
  fsType: string;
  options?: string;
  /** The disk behind the file system, when there is one. */
  diskId?: string;
}

export interface SeedDisk {
  diskId?: string;
  diskName?: string;
  type?: 'system' | 'data';
  /** cloud_essd, cloud_auto, cloud_essd_entry, cloud_ssd, cloud_efficiency, cloud ... */
  category: string;
  performanceLevel?: string;
  sizeGiB?: number;
  /** Guest-visible device as DescribeDisks reports it, e.g. `/dev/xvdb`. */
  device?: string;
  zoneId?: string;
  /** Modelled amount of data (drives snapshot duration); real files add their own bytes. */
  usedGiB?: number;
  /** Real file tree: relative path -> UTF-8 content. */
  files?: Record<string, string>;
  tags?: Record<string, string>;
}

export interface SeedInstance {
  instanceId?: string;
  instanceName?: string;
  osType?: OsType;
  osName?: string;
  zoneId?: string;
  status?: 'Running' | 'Stopped';
  instanceType?: string;
  /** Default: the zone's vSwitch (`vSwitchOf(zoneId)`). */
  vSwitchId?: string;
  /** Default: the emulator's one security group. */
  securityGroupIds?: string[];
  /** Cloud Assistant agent installed and running. Default true. */
  agent?: boolean;
  /** The instance has been started at least once. Default true. */
  everStarted?: boolean;
  lockReason?: string | null;
  tags?: Record<string, string>;
  disks?: SeedDisk[];
  mounts?: SeedMount[];
  tmp?: SeedTmpFile[];
}

export interface SeedConfig {
  zones?: string[];
  instances?: SeedInstance[];
  /** Unattached disks (need `zoneId`). */
  disks?: SeedDisk[];
}

export interface EcsEmulatorOptions {
  /** 0 = a free port. Default 0. */
  port?: number;
  host?: string;
  dataDir: string;
  regionId?: string;
  /**
   * Regions served, each with its own inventory (the default region is always one). Default
   * `cn-hangzhou` and `cn-shanghai`.
   */
  regions?: string[];
  accessKeyId?: string;
  accessKeySecret?: string;
  /** When set, every request must carry this STS token. */
  securityToken?: string;
  /** STS-style sets accepted besides the key above (issued and expired while running). */
  keys?: KeyRing;
  /** Applied only when the data folder holds no state yet (or with `reset`). */
  seed?: SeedConfig | string;
  reset?: boolean;
  /** Snapshot speed; a snapshot takes snapshotBaseMs + data bytes / speed. */
  snapshotSpeedBytesPerSec?: number;
  /** Fixed part of every snapshot's duration. Default 1000 ms. */
  snapshotBaseMs?: number;
  /** Disk-count limit per snapshot group. Default 16. */
  groupDiskLimit?: number;
  /** Manual snapshots per disk. Default 256. */
  snapshotQuotaPerDisk?: number;
  /** Requests per second per action (`*` = every action without its own entry). */
  rateLimits?: Record<string, number>;
  /** Duration of Attaching/Detaching/Creating/ReIniting and Starting/Stopping. Default 500 ms. */
  asyncOperationMs?: number;
  /** An unresponsive agent leaves invocations Pending this long, then Aborted. Default 60000 ms. */
  agentDeliveryTimeoutMs?: number;
  /** Accepted clock skew of signed requests. Default 900 s (15 minutes). */
  timestampToleranceSeconds?: number;
  /**
   * How Linux scripts run: `auto` (default) runs them in a sandbox (as root, or through a user
   * namespace) and simulates them only where no sandbox can be made; `simulated` always simulates.
   */
  guest?: 'auto' | 'simulated';
  log?: (line: string) => void;
}

export interface EcsEmulator {
  /** `127.0.0.1:PORT`, the SDK's `endpoint`. */
  endpoint: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  regionId: string;
  accessKeyId: string;
  accessKeySecret: string;
  admin: EmulatorAdmin;
  /** How Linux guest scripts run here, and why. */
  guestMode: GuestModeInfo;
  close(): Promise<void>;
}

export interface CallRecord {
  action: string;
  at: number;
  ok: boolean;
  code?: string;
  status: number;
  /** `v3`, `v2` or `v2-get` (a pre-signed URL). */
  signing: string;
}

export interface FreezeEvent {
  instanceId: string;
  mountPoint: string;
  action: 'freeze' | 'thaw';
  at: number;
  ok: boolean;
  error?: string;
  /** `fsfreeze` (Linux shim) or `vss` (Windows simulation). */
  source: 'fsfreeze' | 'vss';
  writers?: boolean;
  invokeId?: string;
}

export interface MountEvent {
  instanceId: string;
  action: 'mount' | 'umount';
  device: string;
  mountPoint: string;
  options: string;
  at: number;
  ok: boolean;
  error?: string;
  invokeId?: string;
}

export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
  /** Octal, e.g. `0640`. */
  mode: string;
  /** The recorded owner's uid (0 = root). */
  owner: number;
}

export interface FaultSpec {
  action: string;
  count?: number;
  code: string;
  message?: string;
  status?: number;
}

export interface EmulatorStats {
  instances: number;
  disks: number;
  snapshots: number;
  snapshotGroups: number;
  invocations: number;
  calls: number;
  callsByAction: Record<string, number>;
  frozen: number;
}

export interface BulkSeedSpec {
  instances: number;
  disksPerInstance?: number;
  /** Total snapshots, spread over the disks; grouped per instance when the disks are ESSD. */
  snapshots: number;
  category?: string;
  zoneId?: string;
  tags?: Record<string, string>;
}

export interface GuestModeInfo {
  kind: 'root' | 'user-namespace' | 'simulated';
  why: string;
}

export interface EmulatorAdmin {
  /**
   * The same methods on another region's inventory (over HTTP: `/__admin/<method>?region=<id>`).
   * Faults and call records are shared by all regions.
   */
  inRegion(regionId: string): EmulatorAdmin;
  /**
   * Damages the snapshot's file system (fs-damage.ts): a disk made from it fails `fsck`, and with
   * `loseFiles` has lost its files.
   */
  corruptSnapshot(args: {
    snapshotId: string;
    message?: string;
    loseFiles?: boolean;
  }): Promise<{ snapshotId: string; filesLost: number }>;
  /** The next copy of the snapshot (of any snapshot without snapshotId) fails at this progress. */
  failCopy(args: { snapshotId?: string; atPercent?: number }): Promise<void>;
  stats(): Promise<EmulatorStats>;
  /** How Linux guest scripts run in this emulator, and why. */
  guestMode(): Promise<GuestModeInfo>;
  /** Calls received, oldest first. */
  calls(filter?: { action?: string; since?: number }): Promise<CallRecord[]>;
  clearCalls(): Promise<void>;
  freezeLog(filter?: { instanceId?: string; mountPoint?: string }): Promise<FreezeEvent[]>;
  mountLog(filter?: { instanceId?: string }): Promise<MountEvent[]>;
  /** File systems frozen now. */
  frozen(filter?: {
    instanceId?: string;
  }): Promise<{ instanceId: string; mountPoint: string; since: number }[]>;

  failNext(fault: FaultSpec): Promise<void>;
  delay(args: { action?: string; ms: number }): Promise<void>;
  throttle(args: { action?: string; fraction: number }): Promise<void>;
  setRateLimit(args: { action: string; perSecond: number | null }): Promise<void>;
  /** Next snapshot of the disk (any disk without diskId), or the given one, fails at this progress. */
  failSnapshot(args: { diskId?: string; snapshotId?: string; atPercent?: number }): Promise<void>;
  setAgent(args: { instanceId: string; installed?: boolean; responsive?: boolean }): Promise<void>;
  /**
   * The next `count` (default 1) calls of the action (`*` or none = any) pass authentication and the
   * other faults, then wait before doing their work until `release` (or `clearFaults`).
   */
  hold(args?: { action?: string; count?: number }): Promise<void>;
  /** How many calls (of the action) are waiting on a hold now. */
  held(args?: { action?: string }): Promise<number>;
  /** Lets the held calls (of the action) go on and drops its holds not taken yet; answers how many went. */
  release(args?: { action?: string }): Promise<number>;
  /** Clears every fault and lets held calls go on. */
  clearFaults(): Promise<void>;

  /**
   * `spreadMs` adds a uniform random 0..spreadMs to every snapshot's duration; `timeScale` is how
   * many simulated seconds pass per wall second for snapshot durations (a 300 s snapshot at scale 10
   * completes in 30 s), so a realistic run fits in minutes while pollers see the real proportions.
   */
  setSnapshotSpeed(args: {
    bytesPerSec?: number;
    baseMs?: number;
    instant?: boolean;
    spreadMs?: number;
    timeScale?: number;
  }): Promise<void>;
  completeSnapshots(args?: { snapshotIds?: string[] }): Promise<number>;
  advanceSnapshots(args: { ms: number }): Promise<void>;
  setGroupDiskLimit(args: { limit: number }): Promise<void>;
  setAsyncOperationMs(args: { ms: number }): Promise<void>;
  /** Ends every instance, disk and image transition (Stopping, Attaching, Creating...) now; answers how many. */
  completeOperations(): Promise<number>;

  addInstance(spec: SeedInstance): Promise<{ instanceId: string; diskIds: string[] }>;
  updateInstance(args: {
    instanceId: string;
    status?: InstanceStatus;
    lockReason?: string | null;
    everStarted?: boolean;
    tags?: Record<string, string>;
    mounts?: SeedMount[];
  }): Promise<void>;
  /** With instanceId the disk is attached at once (In_use). */
  addDisk(spec: SeedDisk & { instanceId?: string }): Promise<{ diskId: string }>;
  updateDisk(args: {
    diskId: string;
    category?: string;
    usedGiB?: number;
    tags?: Record<string, string>;
  }): Promise<void>;

  writeFile(args: {
    diskId: string;
    path: string;
    content: string;
    encoding?: 'utf8' | 'base64';
    /** Recorded owner (default root). */
    owner?: FileOwner;
    /** Octal string or number; default as the file system creates it. */
    mode?: string | number;
  }): Promise<void>;
  readFile(args: {
    diskId?: string;
    snapshotId?: string;
    path: string;
    encoding?: 'utf8' | 'base64';
  }): Promise<string>;
  removeFile(args: { diskId: string; path: string }): Promise<void>;
  listFiles(args: { diskId?: string; snapshotId?: string }): Promise<FileEntry[]>;
  /** Host folder holding the tree (read it, never write a snapshot's). */
  treePath(args: { diskId?: string; snapshotId?: string }): Promise<string>;

  setTmpFile(args: { instanceId: string } & SeedTmpFile): Promise<void>;
  removeTmpFile(args: { instanceId: string; path: string }): Promise<void>;

  /** Synthetic inventory for load tests, written in one transaction (no file trees). */
  bulkSeed(
    spec: BulkSeedSpec,
  ): Promise<{ instanceIds: string[]; diskIds: string[]; snapshotIds: string[]; snapshotGroupIds: string[] }>;
}
