import type {
  BackupPoint,
  ExportRecord,
  Job,
  JobStatus,
  JobType,
  Plan,
  ProtectedInstance,
} from '../domain/model.js';
import type { CopyExpiry } from '../domain/copies.js';
import type { Delivery, Subscription } from '../domain/notifications.js';
import type { ProtectionRule } from '../domain/protection-rule.js';

/**
 * Persistent state. Every write is conditional where a race is possible; losing a race is an
 * expected outcome (a value), not an exception. Adapters: SQLite (one machine) and Tablestore (cloud).
 */

export type WriteResult<T> =
  | { ok: true; value: T }
  /** `exists`: create-if-absent found a row; `conflict`: version or expected state differed; `not_found`: no row. */
  | { ok: false; reason: 'exists' | 'conflict' | 'not_found'; current?: T };

export interface Page<T> {
  items: T[];
  /** Opaque; absent when there is nothing more. */
  cursor?: string;
}

export interface PageRequest {
  /** 1..1000; adapters clamp. */
  limit?: number;
  cursor?: string;
  /** Default `desc` (newest first). */
  order?: 'asc' | 'desc';
}

/** A table of versioned rows with an id. `version` is managed by the store: create sets 1, update increments. */
export interface Collection<T extends { version: number }> {
  /** Create if absent. */
  create(item: T): Promise<WriteResult<T>>;
  get(id: string): Promise<T | undefined>;
  getMany(ids: string[]): Promise<T[]>;
  /** Which of the ids have a row, read without their documents (a check over thousands of rows). */
  existing(ids: string[]): Promise<Set<string>>;
  /** Replace the row if its stored version equals `expectedVersion`; the stored version becomes expectedVersion + 1. */
  update(item: T, expectedVersion: number): Promise<WriteResult<T>>;
  /** Delete if present (and at `expectedVersion` when given). */
  delete(id: string, expectedVersion?: number): Promise<WriteResult<undefined>>;
}

export interface PlanFilter {
  instanceId?: string;
  state?: Plan['state'];
}

export interface PlanCollection extends Collection<Plan> {
  /** Create-if-absent for each plan, in as few writes as the store allows; one result per item, in order. */
  createMany(items: Plan[]): Promise<WriteResult<Plan>[]>;
  list(filter: PlanFilter, page?: PageRequest): Promise<Page<Plan>>;
  /** ACTIVE plans with nextRunAt <= before, ascending by nextRunAt. */
  dueBefore(before: number, limit: number): Promise<Plan[]>;
}

export interface JobFilter {
  type?: JobType;
  status?: JobStatus | JobStatus[];
  instanceId?: string;
  planId?: string;
  /** createdAt range, inclusive from, exclusive to. */
  from?: number;
  to?: number;
}

export interface JobCollection extends Collection<Job> {
  /** Newest first by createdAt unless page.order = asc. */
  list(filter: JobFilter, page?: PageRequest): Promise<Page<Job>>;
}

export interface PointFilter {
  instanceId?: string;
  planId?: string;
  status?: BackupPoint['status'] | BackupPoint['status'][];
  /** completedAt range, inclusive from, exclusive to. */
  from?: number;
  to?: number;
}

export interface PointCollection extends Collection<BackupPoint> {
  /** Time order by completedAt, newest first unless page.order = asc. */
  list(filter: PointFilter, page?: PageRequest): Promise<Page<BackupPoint>>;
  /** AVAILABLE or DELETE_FAILED points with effectiveExpireAt <= now, ascending by effectiveExpireAt. */
  expired(now: number, limit: number, cursor?: string): Promise<Page<BackupPoint>>;
  /** AVAILABLE or DELETE_FAILED points with a lock and effectiveExpireAt > now, ascending by effectiveExpireAt. */
  locked(now: number, limit: number, cursor?: string): Promise<Page<BackupPoint>>;
}

export interface CopyExpiryCollection extends Collection<CopyExpiry> {
  /** Rows with expireAt <= now, ascending by expireAt. */
  due(now: number, limit: number, cursor?: string): Promise<Page<CopyExpiry>>;
}

export interface ProtectedInstanceCollection {
  create(item: ProtectedInstance): Promise<WriteResult<ProtectedInstance>>;
  /** Create-if-absent for each row, in as few writes as the store allows; one result per item, in order. */
  createMany(items: ProtectedInstance[]): Promise<WriteResult<ProtectedInstance>[]>;
  get(instanceId: string): Promise<ProtectedInstance | undefined>;
  getMany(instanceIds: string[]): Promise<ProtectedInstance[]>;
  update(item: ProtectedInstance, expectedVersion: number): Promise<WriteResult<ProtectedInstance>>;
  delete(instanceId: string, expectedVersion?: number): Promise<WriteResult<undefined>>;
  /** Newest first by createdAt unless page.order = asc. */
  list(page?: PageRequest): Promise<Page<ProtectedInstance>>;
  /** The instances one protection rule protects, newest first by createdAt unless page.order = asc. */
  listByRule(ruleId: string, page?: PageRequest): Promise<Page<ProtectedInstance>>;
}

export interface ExportFilter {
  backupId?: string;
  instanceId?: string;
}

export interface ExportCollection extends Collection<ExportRecord> {
  list(filter: ExportFilter, page?: PageRequest): Promise<Page<ExportRecord>>;
}

/** Answers remembered for `Idempotency-Key` on POST requests. */
export interface IdempotencyRecord {
  key: string;
  /** Hash of method + path + body, so a reused key with another request is refused. */
  requestHash: string;
  statusCode: number;
  body: string;
  createdAt: number;
  expireAt: number;
}

export interface IdempotencyCollection {
  /** Create if absent; `exists` returns the stored record as `current`. */
  put(record: IdempotencyRecord): Promise<WriteResult<IdempotencyRecord>>;
  get(key: string): Promise<IdempotencyRecord | undefined>;
}

export interface SubscriptionCollection extends Collection<Subscription> {
  /** Newest first by createdAt unless page.order = asc. */
  list(page?: PageRequest): Promise<Page<Subscription>>;
}

export interface DeliveryCollection extends Collection<Delivery> {
  /** One subscription's deliveries, newest first by createdAt unless page.order = asc. */
  list(subscriptionId: string, page?: PageRequest): Promise<Page<Delivery>>;
}

export interface ProtectionRuleCollection extends Collection<ProtectionRule> {
  /** Newest first by createdAt unless page.order = asc. */
  list(page?: PageRequest): Promise<Page<ProtectionRule>>;
}

export interface Store {
  plans: PlanCollection;
  jobs: JobCollection;
  points: PointCollection;
  instances: ProtectedInstanceCollection;
  exports: ExportCollection;
  idempotency: IdempotencyCollection;
  subscriptions: SubscriptionCollection;
  deliveries: DeliveryCollection;
  protectionRules: ProtectionRuleCollection;
  copyExpiries: CopyExpiryCollection;
  close(): Promise<void>;
}
