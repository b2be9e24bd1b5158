/** The API's views as the console reads them (the OpenAPI document at /api/v1/openapi.json). */
export type Level = 'application' | 'filesystem' | 'crash';
export type Span<U extends string> = { value: number; unit: U };

export interface Disk {
  diskId: string;
  name: string;
  type: 'system' | 'data';
  category: string;
  sizeGiB: number;
  device: string | null;
  status: string;
}

export interface Instance {
  instanceId: string;
  name: string;
  status: string;
  osType: 'linux' | 'windows';
  osName: string;
  zoneId: string;
  disks: Disk[];
  cloudAssistant: 'running' | 'not-running' | 'unknown';
  protection: { protected: boolean; planId: string | null; planName: string | null };
}

export interface Plan {
  id: string;
  name: string;
  instanceId: string;
  disks: 'all' | string[];
  schedule: { startAt: string; every: Span<'hours' | 'days' | 'weeks'> } | null;
  retention: Span<'days' | 'weeks' | 'months' | 'years'>;
  longTerm: { period: 'week' | 'month' | 'year'; keep: Span<'days' | 'weeks' | 'months' | 'years'> }[];
  consistency: { applicationConsistent: boolean; fsFreeze: boolean; windowsWriters: boolean };
  timeZone: string;
  state: 'ACTIVE' | 'SUSPENDED';
  nextRunAt: string | null;
  lock?: { mode: 'compliance' | 'governance' } | null;
  copies?: { regionId: string; retention: Span<'days' | 'weeks' | 'months' | 'years'> }[];
  verify?: { every: number } | null;
}

export interface ProtectedInstance {
  instanceId: string;
  disks: 'all' | string[];
  planId: string | null;
  plan: Plan | null;
  createdAt: string;
}

export interface Job {
  id: string;
  type: string;
  status: string;
  instanceId: string;
  planId: string | null;
  step: string;
  progress: number;
  cancelRequested: boolean;
  reason: string | null;
  consistency: {
    requested: Level;
    expected: Level | null;
    achieved: Level | null;
    reason: string | null;
    freezeWindowMs: number | null;
  } | null;
  backupId: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface Backup {
  id: string;
  instanceId: string;
  planId: string | null;
  status: string;
  snapshots: { diskId: string; diskType: string; category: string; sizeGiB: number }[];
  consistency: { requested: Level; achieved: Level; reason: string | null };
  completedAt: string;
  expireAt: string;
  longTermRule: string | null;
  effectiveExpireAt: string;
  inUseBy: string[];
  /** Write-once retention: held until effectiveExpireAt. Absent from servers before locks. */
  lock?: { mode: 'compliance' | 'governance'; lockedAt: string } | null;
  copies?: BackupCopy[];
  verification?: {
    status: 'passed' | 'failed';
    at: string;
    reason: string | null;
    durationSeconds: number;
    jobId: string;
  } | null;
  source?: {
    instanceName: string;
    zoneId: string;
    instanceType: string | null;
    vSwitchId: string | null;
    securityGroupIds: string[];
  } | null;
}

export interface BackupCopy {
  regionId: string;
  jobId: string;
  status: 'copying' | 'available' | 'failed' | 'deleted' | 'delete_failed';
  expireAt: string | null;
  reason: string | null;
}

export interface Mount {
  jobId: string;
  backupId: string;
  diskId: string;
  device: string | null;
  expiresAt: string;
  unmount: { jobId: string; status: string } | null;
}

export interface RetentionPreview {
  planId: string;
  evaluatedAt: string;
  keep: number;
  delete: number;
  points: {
    backupId: string;
    completedAt: string;
    decision: 'keep' | 'delete';
    reason: string;
    expireAt: string;
  }[];
}

export const TERMINAL = ['COMPLETE', 'PARTIAL_COMPLETE', 'FAILED', 'CANCELED', 'SKIPPED', 'EXPIRED'];

/** What the plan form shows: a plan's fields, or a rule's plan body (which leaves unset ones out). */
export type PlanFields = Partial<Pick<Plan, 'name' | 'schedule' | 'lock' | 'copies' | 'verify'>> &
  Pick<Plan, 'retention' | 'longTerm' | 'consistency' | 'timeZone'>;

/** A rule's plan body as the API keeps it, defaults filled in (some the form does not show). */
export type RulePlan = Omit<PlanFields, 'consistency'> & {
  consistency: Plan['consistency'] & Record<string, unknown>;
} & Record<string, unknown>;

export interface ProtectionRule {
  id: string;
  name: string;
  priority: number;
  match: { tags: Record<string, string>; zoneIds?: string[]; osType?: 'linux' | 'windows' };
  disks: 'all';
  plan: RulePlan;
  /** What happens to an instance that stops matching while the rule lives (not when it is deleted). */
  onUnmatch: 'keep' | 'remove';
  revision: number;
  state: 'ACTIVE' | 'DELETING';
  status: {
    reconciledAt: string | null;
    matched: number;
    protected: number;
    conflictCount: number;
    error: string | null;
  };
  createdAt: string;
}
