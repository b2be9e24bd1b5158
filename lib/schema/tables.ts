import type { BackupPoint, ExportRecord, Job, Plan, ProtectedInstance } from '../domain/model.js';
import type { CopyExpiry } from '../domain/copies.js';
import type { Delivery, Subscription } from '../domain/notifications.js';
import type { ProtectionRule } from '../domain/protection-rule.js';
import type { IdempotencyRecord } from '../ports/store.js';

/**
 * The one definition of the Store's tables. The SQLite migrations are checked against it by a test,
 * the Tablestore adapter and `npm run infra:provision` derive tables and global secondary indexes from it.
 *
 * Every row holds the entity as a JSON document (`doc`), its `version`, and the columns below, which
 * exist only to be indexed. A column whose value is null is left out of the row: in Tablestore a
 * global index holds a row only when all its key columns are present (a sparse index), and SQLite
 * mirrors that with partial indexes (`WHERE column IS NOT NULL`).
 */

export type ColumnType = 'string' | 'integer';

export interface ColumnDef<T> {
  type: ColumnType;
  /** A null value leaves the row out of every index that uses the column. */
  nullable: boolean;
  // Method syntax on purpose: a TableDef<Plan> must be usable where a TableDef<unknown> is expected.
  value(item: T): string | number | null;
}

export interface IndexDef {
  name: string;
  /**
   * Key columns in order. The last one is the sort key that queries range over; the ones before it are
   * matched by equality. The table's primary key is appended as the tie-breaker (Tablestore does this
   * itself; the SQLite index lists it explicitly) so that (sort key, id) is a total order for cursors.
   */
  columns: readonly string[];
}

export interface TableDef<T = unknown> {
  name: TableName;
  /** Single string primary-key column; the entity field of the same name holds its value. */
  primaryKey: string;
  columns: Readonly<Record<string, ColumnDef<T>>>;
  indexes: readonly IndexDef[];
  /** Column that lists sort by (newest first by default). */
  listSortKey?: string;
  /**
   * Rows may be dropped this long after they were written (Tablestore table TTL, minimum 86400 s).
   * `expireColumn` holds the exact expiry; readers must still compare it with the time.
   */
  ttl?: { seconds: number; expireColumn: string };
}

export type TableName =
  | 'plans'
  | 'jobs'
  | 'points'
  | 'instances'
  | 'exports'
  | 'idempotency'
  | 'subscriptions'
  | 'deliveries'
  | 'protection_rules'
  | 'copy_expiries';

/** Value of `points.expiryBucket` for points that retention may delete (AVAILABLE or DELETE_FAILED). */
export const EXPIRY_BUCKET_ELIGIBLE = 'eligible';
/**
 * The same for a point under a backup lock: its own range of the expiry index, so the lock drift check
 * reads locked points only (from now on: those still under their lock) and retention reads both ranges.
 */
export const EXPIRY_BUCKET_LOCKED = 'locked';

const str = <T>(value: (item: T) => string): ColumnDef<T> => ({ type: 'string', nullable: false, value });
const int = <T>(value: (item: T) => number): ColumnDef<T> => ({ type: 'integer', nullable: false, value });
const optStr = <T>(value: (item: T) => string | null): ColumnDef<T> => ({
  type: 'string',
  nullable: true,
  value,
});
const optInt = <T>(value: (item: T) => number | null): ColumnDef<T> => ({
  type: 'integer',
  nullable: true,
  value,
});

export const plansTable: TableDef<Plan> = {
  name: 'plans',
  primaryKey: 'id',
  columns: {
    state: str((p) => p.state),
    nextRunAt: optInt((p) => p.nextRunAt),
    instanceId: str((p) => p.instanceId),
    createdAt: int((p) => p.createdAt),
  },
  indexes: [
    // dueBefore: state = ACTIVE, nextRunAt <= t, ascending. Unscheduled plans (null) are not in it.
    { name: 'plans_due', columns: ['state', 'nextRunAt'] },
    { name: 'plans_by_instance', columns: ['instanceId', 'createdAt'] },
    { name: 'plans_by_state', columns: ['state', 'createdAt'] },
    { name: 'plans_by_created', columns: ['createdAt'] },
  ],
  listSortKey: 'createdAt',
};

export const jobsTable: TableDef<Job> = {
  name: 'jobs',
  primaryKey: 'id',
  columns: {
    status: str((j) => j.status),
    type: str((j) => j.type),
    instanceId: str((j) => j.instanceId),
    planId: optStr((j) => j.planId),
    createdAt: int((j) => j.createdAt),
  },
  indexes: [
    { name: 'jobs_by_status', columns: ['status', 'createdAt'] },
    { name: 'jobs_by_type', columns: ['type', 'createdAt'] },
    { name: 'jobs_by_instance', columns: ['instanceId', 'createdAt'] },
    { name: 'jobs_by_plan', columns: ['planId', 'createdAt'] },
    { name: 'jobs_by_created', columns: ['createdAt'] },
  ],
  listSortKey: 'createdAt',
};

export const pointsTable: TableDef<BackupPoint> = {
  name: 'points',
  primaryKey: 'id',
  columns: {
    instanceId: str((p) => p.instanceId),
    planId: optStr((p) => p.planId),
    status: str((p) => p.status),
    completedAt: int((p) => p.completedAt),
    expiryBucket: optStr((p) =>
      p.status === 'AVAILABLE' || p.status === 'DELETE_FAILED'
        ? p.lock
          ? EXPIRY_BUCKET_LOCKED
          : EXPIRY_BUCKET_ELIGIBLE
        : null,
    ),
    effectiveExpireAt: int((p) => p.effectiveExpireAt),
  },
  indexes: [
    { name: 'points_by_instance', columns: ['instanceId', 'completedAt'] },
    { name: 'points_by_plan', columns: ['planId', 'completedAt'] },
    { name: 'points_by_status', columns: ['status', 'completedAt'] },
    { name: 'points_by_completed', columns: ['completedAt'] },
    // expired: only points retention may act on, ascending by effectiveExpireAt. One bucket value keeps
    // the scan a single ordered range; the write rate (a few points per instance per day) is far below
    // what one Tablestore partition takes.
    { name: 'points_expiry', columns: ['expiryBucket', 'effectiveExpireAt'] },
  ],
  listSortKey: 'completedAt',
};

export const instancesTable: TableDef<ProtectedInstance> = {
  name: 'instances',
  primaryKey: 'instanceId',
  columns: {
    createdAt: int((i) => i.createdAt),
    // Only instances a protection rule owns are in instances_by_rule (sparse), so reconciliation finds them.
    ruleId: optStr((i) => i.ruleId ?? null),
  },
  indexes: [
    { name: 'instances_by_created', columns: ['createdAt'] },
    { name: 'instances_by_rule', columns: ['ruleId', 'createdAt'] },
  ],
  listSortKey: 'createdAt',
};

export const exportsTable: TableDef<ExportRecord> = {
  name: 'exports',
  primaryKey: 'id',
  columns: {
    backupId: str((e) => e.backupId),
    instanceId: str((e) => e.instanceId),
    createdAt: int((e) => e.createdAt),
  },
  indexes: [
    { name: 'exports_by_backup', columns: ['backupId', 'createdAt'] },
    { name: 'exports_by_instance', columns: ['instanceId', 'createdAt'] },
    { name: 'exports_by_created', columns: ['createdAt'] },
  ],
  listSortKey: 'createdAt',
};

export const idempotencyTable: TableDef<IdempotencyRecord> = {
  name: 'idempotency',
  primaryKey: 'key',
  columns: {
    expireAt: int((r) => r.expireAt),
  },
  indexes: [],
  // Idempotency answers are kept for a day; Tablestore's smallest TTL is exactly that.
  ttl: { seconds: 86_400, expireColumn: 'expireAt' },
};

export const subscriptionsTable: TableDef<Subscription> = {
  name: 'subscriptions',
  primaryKey: 'id',
  columns: {
    createdAt: int((s) => s.createdAt),
  },
  indexes: [{ name: 'subscriptions_by_created', columns: ['createdAt'] }],
  listSortKey: 'createdAt',
};

export const deliveriesTable: TableDef<Delivery> = {
  name: 'deliveries',
  primaryKey: 'id',
  columns: {
    subscriptionId: str((d) => d.subscriptionId),
    createdAt: int((d) => d.createdAt),
  },
  indexes: [{ name: 'deliveries_by_subscription', columns: ['subscriptionId', 'createdAt'] }],
  listSortKey: 'createdAt',
};

export const protectionRulesTable: TableDef<ProtectionRule> = {
  name: 'protection_rules',
  primaryKey: 'id',
  columns: {
    createdAt: int((r) => r.createdAt),
  },
  indexes: [{ name: 'protection_rules_by_created', columns: ['createdAt'] }],
  listSortKey: 'createdAt',
};

export const copyExpiriesTable: TableDef<CopyExpiry> = {
  name: 'copy_expiries',
  primaryKey: 'id',
  columns: {
    expireAt: int((c) => c.expireAt),
  },
  // due: rows with expireAt <= now, ascending; the table holds only copies present in their region.
  indexes: [{ name: 'copy_expiries_due', columns: ['expireAt'] }],
};

export const TABLES = {
  plans: plansTable,
  jobs: jobsTable,
  points: pointsTable,
  instances: instancesTable,
  exports: exportsTable,
  idempotency: idempotencyTable,
  subscriptions: subscriptionsTable,
  deliveries: deliveriesTable,
  protectionRules: protectionRulesTable,
  copyExpiries: copyExpiriesTable,
} as const;

export const TABLE_LIST: readonly TableDef[] = Object.values(TABLES) as readonly TableDef[];

/** Tablestore limits the Store design must respect (see the Tablestore docs). */
export const TABLESTORE_LIMITS = {
  maxIndexesPerTable: 5,
  batchWriteRows: 200,
  batchGetRows: 100,
  getRangeRows: 5000,
  minTtlSeconds: 86_400,
} as const;

/** Physical table name in a Tablestore instance, shared with other software, hence the prefix. */
export function physicalTableName(table: TableDef, prefix = DEFAULT_TABLE_PREFIX): string {
  return `${prefix}${table.name}`;
}

export function physicalIndexName(index: IndexDef, prefix = DEFAULT_TABLE_PREFIX): string {
  return `${prefix}${index.name}`;
}

export const DEFAULT_TABLE_PREFIX = 'ecsb_';

/** Index key columns including the appended primary key. */
export function indexKeyColumns(table: TableDef, index: IndexDef): string[] {
  return [...index.columns, table.primaryKey];
}

/** The indexed column values of one entity; null = absent. */
export function columnValues<T>(table: TableDef<T>, item: T): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const [name, def] of Object.entries(table.columns)) out[name] = def.value(item);
  return out;
}

/** Name of the index that replaces table TTL where the engine has none (SQLite purges expired rows on write). */
export function ttlIndexName(table: TableDef): string {
  return `${table.name}_ttl`;
}
