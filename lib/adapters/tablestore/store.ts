import type TableStore from 'tablestore';
import {
  DEFAULT_TABLE_PREFIX,
  EXPIRY_BUCKET_ELIGIBLE,
  EXPIRY_BUCKET_LOCKED,
  TABLES,
  physicalTableName,
  type IndexDef,
} from '../../schema/tables.js';
import type { BackupPoint, ExportRecord, Job, Plan, ProtectedInstance } from '../../domain/model.js';
import type { Delivery, Subscription } from '../../domain/notifications.js';
import type { ProtectionRule } from '../../domain/protection-rule.js';
import type {
  DeliveryCollection,
  ExportCollection,
  ExportFilter,
  IdempotencyCollection,
  IdempotencyRecord,
  JobCollection,
  JobFilter,
  Page,
  PageRequest,
  PlanCollection,
  PlanFilter,
  PointCollection,
  PointFilter,
  ProtectedInstanceCollection,
  ProtectionRuleCollection,
  Store,
  SubscriptionCollection,
  WriteResult,
} from '../../ports/store.js';
import {
  ConditionFailed,
  TablestoreClient,
  type RetryOptions,
  type TablestoreConnection,
  type TablestoreCredentials,
} from './client.js';
import {
  ComparatorType,
  Condition,
  Long,
  RowExistenceExpectation,
  SingleColumnCondition,
  TablestoreCollection,
  type Ctx,
} from './collection.js';
import { MAX_HOT_LIMIT, clampLimit, decodeCursor } from '../store-paging.js';
import { TablestoreCopyExpiries } from './copy-expiries.js';

export interface TablestoreStoreOptions extends TablestoreConnection, RetryOptions {
  /** Prepended to every table and index name (several deployments can share an instance). */
  tablePrefix?: string;
}

export interface BulkCreate<T> {
  /** Create-if-absent for each item with BatchWriteRow (200 rows per call); one result per item, in order. */
  createMany(items: T[]): Promise<WriteResult<T>[]>;
}

export interface TablestoreStore extends Store {
  plans: PlanCollection & BulkCreate<Plan>;
  jobs: JobCollection & BulkCreate<Job>;
  points: PointCollection & BulkCreate<BackupPoint>;
  instances: ProtectedInstanceCollection & BulkCreate<ProtectedInstance>;
  exports: ExportCollection & BulkCreate<ExportRecord>;
  /** Swap in fresh STS credentials without rebuilding the store (or pass a `credentials` provider). */
  setCredentials(credentials: TablestoreCredentials): void;
}

const oneOf = <V>(want: V | V[] | undefined, got: V): boolean =>
  want === undefined || (Array.isArray(want) ? want.includes(got) : want === got);
const inRange = (t: number, from?: number, to?: number): boolean =>
  (from === undefined || t >= from) && (to === undefined || t < to);

class TablestorePlans extends TablestoreCollection<Plan> implements PlanCollection {
  list(filter: PlanFilter, page?: PageRequest): Promise<Page<Plan>> {
    return this.listBy(
      ['plans_by_instance', 'plans_by_state', 'plans_by_created'],
      'createdAt',
      { instanceId: filter.instanceId, state: filter.state },
      {},
      page,
      (p) => oneOf(filter.instanceId, p.instanceId) && oneOf(filter.state, p.state),
    );
  }

  async dueBefore(before: number, limit: number): Promise<Plan[]> {
    const n = clampLimit(limit, MAX_HOT_LIMIT);
    const index = this.def.indexes.find((i) => i.name === 'plans_due') as IndexDef;
    const res = await this.query(
      { index, prefixes: [['ACTIVE']], to: before + 1, desc: false },
      n,
      (p) => p.state === 'ACTIVE' && p.nextRunAt !== null && p.nextRunAt <= before,
    );
    // Rows are re-read from the table; a nextRunAt that moved since indexing may reorder them.
    return res.items.sort((a, b) => (a.nextRunAt ?? 0) - (b.nextRunAt ?? 0) || (a.id < b.id ? -1 : 1));
  }
}

class TablestoreJobs extends TablestoreCollection<Job> implements JobCollection {
  list(filter: JobFilter, page?: PageRequest): Promise<Page<Job>> {
    return this.listBy(
      ['jobs_by_plan', 'jobs_by_instance', 'jobs_by_status', 'jobs_by_type', 'jobs_by_created'],
      'createdAt',
      { planId: filter.planId, instanceId: filter.instanceId, status: filter.status, type: filter.type },
      { from: filter.from, to: filter.to },
      page,
      (j) =>
        oneOf(filter.type, j.type) &&
        oneOf(filter.status, j.status) &&
        oneOf(filter.instanceId, j.instanceId) &&
        (filter.planId === undefined || j.planId === filter.planId) &&
        inRange(j.createdAt, filter.from, filter.to),
    );
  }
}

class TablestorePoints extends TablestoreCollection<BackupPoint> implements PointCollection {
  list(filter: PointFilter, page?: PageRequest): Promise<Page<BackupPoint>> {
    return this.listBy(
      ['points_by_plan', 'points_by_instance', 'points_by_status', 'points_by_completed'],
      'completedAt',
      { planId: filter.planId, instanceId: filter.instanceId, status: filter.status },
      { from: filter.from, to: filter.to },
      page,
      (p) =>
        oneOf(filter.instanceId, p.instanceId) &&
        (filter.planId === undefined || p.planId === filter.planId) &&
        oneOf(filter.status, p.status) &&
        inRange(p.completedAt, filter.from, filter.to),
    );
  }

  expired(now: number, limit: number, cursor?: string): Promise<Page<BackupPoint>> {
    const buckets = [[EXPIRY_BUCKET_ELIGIBLE], [EXPIRY_BUCKET_LOCKED]];
    return this.expiryRange(buckets, { to: now + 1 }, limit, cursor, (p) => p.effectiveExpireAt <= now);
  }

  locked(now: number, limit: number, cursor?: string): Promise<Page<BackupPoint>> {
    const live = (p: BackupPoint) => p.lock !== undefined && p.effectiveExpireAt > now;
    return this.expiryRange([[EXPIRY_BUCKET_LOCKED]], { from: now + 1 }, limit, cursor, live);
  }

  /** Ranges of `points_expiry` (AVAILABLE or DELETE_FAILED points), ascending by effectiveExpireAt. */
  private async expiryRange(
    prefixes: string[][],
    range: { from?: number; to?: number },
    limit: number,
    cursor: string | undefined,
    matches: (p: BackupPoint) => boolean,
  ): Promise<Page<BackupPoint>> {
    const index = this.def.indexes.find((i) => i.name === 'points_expiry') as IndexDef;
    const res = await this.query(
      { index, prefixes, ...range, desc: false, after: decodeCursor(cursor) },
      clampLimit(limit, MAX_HOT_LIMIT),
      (p) => (p.status === 'AVAILABLE' || p.status === 'DELETE_FAILED') && matches(p),
    );
    return res.cursor === undefined ? { items: res.items } : { items: res.items, cursor: res.cursor };
  }
}

class TablestoreInstances
  extends TablestoreCollection<ProtectedInstance>
  implements ProtectedInstanceCollection
{
  list(page?: PageRequest): Promise<Page<ProtectedInstance>> {
    return this.listBy(['instances_by_created'], 'createdAt', {}, {}, page, () => true);
  }

  listByRule(ruleId: string, page?: PageRequest): Promise<Page<ProtectedInstance>> {
    return this.listBy(['instances_by_rule'], 'createdAt', { ruleId }, {}, page, (i) => i.ruleId === ruleId);
  }
}

class TablestoreExports extends TablestoreCollection<ExportRecord> implements ExportCollection {
  list(filter: ExportFilter, page?: PageRequest): Promise<Page<ExportRecord>> {
    return this.listBy(
      ['exports_by_backup', 'exports_by_instance', 'exports_by_created'],
      'createdAt',
      { backupId: filter.backupId, instanceId: filter.instanceId },
      {},
      page,
      (e) => oneOf(filter.backupId, e.backupId) && oneOf(filter.instanceId, e.instanceId),
    );
  }
}

class TablestoreSubscriptions extends TablestoreCollection<Subscription> implements SubscriptionCollection {
  list(page?: PageRequest): Promise<Page<Subscription>> {
    return this.listBy(['subscriptions_by_created'], 'createdAt', {}, {}, page, () => true);
  }
}

class TablestoreDeliveries extends TablestoreCollection<Delivery> implements DeliveryCollection {
  list(subscriptionId: string, page?: PageRequest): Promise<Page<Delivery>> {
    return this.listBy(
      ['deliveries_by_subscription'],
      'createdAt',
      { subscriptionId },
      {},
      page,
      (d) => d.subscriptionId === subscriptionId,
    );
  }
}

class TablestoreProtectionRules
  extends TablestoreCollection<ProtectionRule>
  implements ProtectionRuleCollection
{
  list(page?: PageRequest): Promise<Page<ProtectionRule>> {
    return this.listBy(['protection_rules_by_created'], 'createdAt', {}, {}, page, () => true);
  }
}

class TablestoreIdempotency implements IdempotencyCollection {
  private readonly tableName: string;

  constructor(private readonly ctx: Ctx) {
    this.tableName = physicalTableName(TABLES.idempotency, ctx.prefix);
  }

  private row(record: IdempotencyRecord): TableStore.AttributesInput {
    return [
      { doc: JSON.stringify(record) },
      { version: Long.fromNumber(1) },
      { expireAt: Long.fromNumber(record.expireAt) },
    ];
  }

  private put1(record: IdempotencyRecord, condition: TableStore.Condition) {
    return this.ctx.client.call((sdk) =>
      sdk.putRow({
        tableName: this.tableName,
        primaryKey: [{ key: record.key }],
        attributeColumns: this.row(record),
        condition,
      }),
    );
  }

  async put(record: IdempotencyRecord): Promise<WriteResult<IdempotencyRecord>> {
    try {
      await this.put1(record, new Condition(RowExistenceExpectation.EXPECT_NOT_EXIST, null));
      return { ok: true, value: { ...record } };
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
    }
    const current = await this.get(record.key);
    if (current === undefined || JSON.stringify(current) === JSON.stringify(record))
      return { ok: true, value: { ...record } };
    if (current.expireAt > record.createdAt) return { ok: false, reason: 'exists', current };
    // Expired but not yet dropped by the table TTL: replace it, unless someone else just did.
    try {
      await this.put1(
        record,
        new Condition(
          RowExistenceExpectation.EXPECT_EXIST,
          new SingleColumnCondition(
            'expireAt',
            Long.fromNumber(current.expireAt),
            ComparatorType.EQUAL,
            false,
          ),
        ),
      );
      return { ok: true, value: { ...record } };
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      const now = await this.get(record.key);
      return now === undefined
        ? { ok: false, reason: 'exists' }
        : { ok: false, reason: 'exists', current: now };
    }
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const res = await this.ctx.client.read((sdk) =>
      sdk.getRow({ tableName: this.tableName, primaryKey: [{ key }], columnsToGet: ['doc'] }),
    );
    const doc = res.row?.attributes?.find((a) => a.columnName === 'doc')?.columnValue;
    return typeof doc === 'string' ? (JSON.parse(doc) as IdempotencyRecord) : undefined;
  }
}

/** The Store on Tablestore through the official SDK. Tables must exist (`npm run infra:provision`). */
export function createTablestoreStore(opts: TablestoreStoreOptions): TablestoreStore {
  const client = new TablestoreClient(opts, opts);
  const ctx: Ctx = { client, prefix: opts.tablePrefix ?? DEFAULT_TABLE_PREFIX };
  return {
    plans: new TablestorePlans(ctx, TABLES.plans),
    jobs: new TablestoreJobs(ctx, TABLES.jobs),
    points: new TablestorePoints(ctx, TABLES.points),
    instances: new TablestoreInstances(ctx, TABLES.instances),
    exports: new TablestoreExports(ctx, TABLES.exports),
    idempotency: new TablestoreIdempotency(ctx),
    subscriptions: new TablestoreSubscriptions(ctx, TABLES.subscriptions),
    deliveries: new TablestoreDeliveries(ctx, TABLES.deliveries),
    protectionRules: new TablestoreProtectionRules(ctx, TABLES.protectionRules),
    copyExpiries: new TablestoreCopyExpiries(ctx, TABLES.copyExpiries),
    setCredentials: (credentials) => client.setCredentials(credentials),
    async close() {
      // The SDK keeps no per-client resources; sockets belong to Node's shared agent.
    },
  };
}
