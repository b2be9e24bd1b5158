import type { OsType } from '../../domain/model.js';
import type {
  DiskStatus,
  EcsDisk,
  EcsInstance,
  EcsSnapshot,
  EcsSnapshotGroup,
  InstanceStatus,
  InvocationResult,
  InvocationStatus,
  SnapshotStatus,
  Tag,
} from '../../ports/ecs.js';

/** ECS answers with loosely typed JSON; everything here reads it defensively. */
export type Json = Record<string, unknown>;

export function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

export function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : 0;
}

/** ECS wraps lists as `{ Snapshots: { Snapshot: [...] } }`; a single element sometimes comes unwrapped. */
export function list(container: unknown, key: string): Json[] {
  const inner = obj(container)[key];
  if (Array.isArray(inner)) return inner.map(obj);
  if (typeof inner === 'object' && inner !== null) return [obj(inner)];
  return [];
}

/** `"73%"` -> 73; anything unreadable -> 0. Clamped to 0..100. */
export function parseProgress(v: unknown): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(str(v));
  if (!m) return 0;
  return Math.min(100, Math.max(0, Number(m[1])));
}

/**
 * ECS times are UTC ISO 8601, sometimes without seconds (`2024-05-01T08:00Z`, DescribeInstances)
 * or without a zone designator; both mean UTC. Returns epoch ms, or null when absent or unreadable.
 */
export function parseTime(v: unknown): number | null {
  const s = str(v).trim();
  if (s === '') return null;
  const m =
    /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(
      s,
    );
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec ?? 0));
  if (frac) t += Number(frac.padEnd(3, '0'));
  if (zone && zone.toUpperCase() !== 'Z') {
    const zm = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const offset = (Number(zm[2]) * 60 + Number(zm[3])) * 60_000;
    t -= zm[1] === '+' ? offset : -offset;
  }
  return Number.isFinite(t) ? t : null;
}

/** Tags come as `{TagKey, TagValue}` (instances, disks, snapshots) or `{Key, Value}` (snapshot groups). */
export function parseTags(container: unknown): Tag[] {
  return list(container, 'Tag')
    .map((t) => ({ key: str(t.TagKey ?? t.Key), value: str(t.TagValue ?? t.Value) }))
    .filter((t) => t.key !== '');
}

const INSTANCE_STATUSES: readonly string[] = ['Pending', 'Running', 'Starting', 'Stopping', 'Stopped'];
const DISK_STATUSES: readonly string[] = [
  'In_use',
  'Available',
  'Attaching',
  'Detaching',
  'Creating',
  'ReIniting',
];

export function parseInstance(raw: Json, regionId: string): EcsInstance {
  const status = str(raw.Status);
  return {
    instanceId: str(raw.InstanceId),
    instanceName: str(raw.InstanceName),
    // Statuses outside the port's set (e.g. a future one) read as Pending: not usable yet, never "Running".
    status: (INSTANCE_STATUSES.includes(status) ? status : 'Pending') as InstanceStatus,
    osType: (str(raw.OSType).toLowerCase() === 'windows' ? 'windows' : 'linux') as OsType,
    osName: str(raw.OSName),
    zoneId: str(raw.ZoneId),
    regionId: str(raw.RegionId) || regionId,
    tags: parseTags(raw.Tags),
    ...launchFacts(raw),
  };
}

/** Instance type, vSwitch and security groups, where the answer has them. */
function launchFacts(raw: Json): Pick<EcsInstance, 'instanceType' | 'vSwitchId' | 'securityGroupIds'> {
  const out: Pick<EcsInstance, 'instanceType' | 'vSwitchId' | 'securityGroupIds'> = {};
  const type = str(raw.InstanceType);
  if (type) out.instanceType = type;
  const vSwitch = str(obj(raw.VpcAttributes).VSwitchId);
  if (vSwitch) out.vSwitchId = vSwitch;
  const groups = obj(raw.SecurityGroupIds).SecurityGroupId;
  if (Array.isArray(groups)) out.securityGroupIds = groups.map(str).filter((g) => g !== '');
  return out;
}

export function parseDisk(raw: Json): EcsDisk {
  const status = str(raw.Status);
  const instanceId = str(raw.InstanceId);
  const device = str(raw.Device);
  const source = str(raw.SourceSnapshotId);
  return {
    diskId: str(raw.DiskId),
    diskName: str(raw.DiskName),
    instanceId: instanceId === '' ? null : instanceId,
    zoneId: str(raw.ZoneId),
    type: str(raw.Type).toLowerCase() === 'system' ? 'system' : 'data',
    category: str(raw.Category),
    sizeGiB: num(raw.Size),
    status: (DISK_STATUSES.includes(status) ? status : 'Creating') as DiskStatus,
    device: device === '' ? null : device,
    tags: parseTags(raw.Tags),
    sourceSnapshotId: source === '' ? null : source,
  };
}

function snapshotStatus(v: unknown): SnapshotStatus | null {
  const s = str(v).toLowerCase();
  return s === 'progressing' || s === 'accomplished' || s === 'failed' ? s : null;
}

export function parseSnapshot(raw: Json): EcsSnapshot {
  const progress = parseProgress(raw.Progress);
  return {
    snapshotId: str(raw.SnapshotId),
    snapshotName: str(raw.SnapshotName),
    sourceDiskId: str(raw.SourceDiskId),
    sourceDiskType: str(raw.SourceDiskType).toLowerCase() === 'system' ? 'system' : 'data',
    sourceDiskSizeGiB: num(raw.SourceDiskSize),
    status: snapshotStatus(raw.Status) ?? (progress >= 100 ? 'accomplished' : 'progressing'),
    progress,
    createdAt: parseTime(raw.CreationTime) ?? 0,
    tags: parseTags(raw.Tags),
    usage: str(raw.Usage) || 'none',
  };
}

/**
 * DescribeSnapshotGroups lists each member snapshot with only id, source disk, progress and
 * availability; the rest is taken from the group so a poll needs one call, not one per snapshot.
 */
export function parseSnapshotGroup(raw: Json): EcsSnapshotGroup {
  const status = snapshotStatus(raw.Status) ?? 'progressing';
  const groupTime = parseTime(raw.CreationTime) ?? 0;
  const snapshots = list(raw.Snapshots, 'Snapshot').map((s): EcsSnapshot => {
    const snap = parseSnapshot(s);
    const own = snapshotStatus(s.Status);
    return {
      ...snap,
      status:
        own ??
        (status === 'failed'
          ? 'failed'
          : snap.progress >= 100 || s.Available === true
            ? 'accomplished'
            : 'progressing'),
      createdAt: snap.createdAt || groupTime,
    };
  });
  return {
    snapshotGroupId: str(raw.SnapshotGroupId),
    instanceId: str(raw.InstanceId),
    status,
    snapshots,
    tags: parseTags(raw.Tags),
  };
}

const INVOCATION_STATUSES: readonly string[] = [
  'Pending',
  'Invalid',
  'Aborted',
  'Running',
  'Success',
  'Failed',
  'Error',
  'Timeout',
  'Cancelled',
  'Stopping',
  'Terminated',
  'Scheduled',
];

export function parseInvocationResult(raw: Json): InvocationResult {
  const status = str(raw.InvocationStatus);
  const exit = raw.ExitCode;
  const errorCode = str(raw.ErrorCode);
  const errorInfo = str(raw.ErrorInfo);
  return {
    invokeId: str(raw.InvokeId),
    instanceId: str(raw.InstanceId),
    status: (INVOCATION_STATUSES.includes(status) ? status : 'Running') as InvocationStatus,
    exitCode: exit === undefined || exit === null || exit === '' ? null : num(exit),
    output: decodeOutput(raw.Output),
    errorCode: errorCode === '' ? null : errorCode,
    errorInfo: errorInfo === '' ? null : errorInfo,
    finishedAt: parseTime(raw.FinishedTime),
  };
}

/** Output comes back base64: the adapter always asks for `ContentEncoding=Base64`, so bytes survive intact. */
export function decodeOutput(v: unknown): string {
  const s = str(v);
  return s === '' ? '' : Buffer.from(s, 'base64').toString('utf8');
}
