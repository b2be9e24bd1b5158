/**
 * Versioned schema migrations. Each entry is applied once, in order, inside one immediate transaction,
 * and recorded in `schema_migrations`. Entries are never edited after release: a change is a new entry.
 * A test checks that the tables and indexes they produce match `lib/schema/tables.ts`.
 *
 * STRICT tables make SQLite refuse a value of the wrong type instead of silently storing it.
 * Indexes on a nullable column are partial (`WHERE col IS NOT NULL`), like Tablestore's sparse global
 * indexes: unscheduled plans and points retention may not touch never enter the hot-query indexes.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial tables and indexes',
    sql: `
CREATE TABLE plans (
  id TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  state TEXT NOT NULL,
  nextRunAt INTEGER,
  instanceId TEXT NOT NULL,
  createdAt INTEGER NOT NULL
) STRICT;
CREATE INDEX plans_due ON plans (state, nextRunAt, id) WHERE nextRunAt IS NOT NULL;
CREATE INDEX plans_by_instance ON plans (instanceId, createdAt, id);
CREATE INDEX plans_by_state ON plans (state, createdAt, id);
CREATE INDEX plans_by_created ON plans (createdAt, id);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  status TEXT NOT NULL,
  type TEXT NOT NULL,
  instanceId TEXT NOT NULL,
  planId TEXT,
  createdAt INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_by_status ON jobs (status, createdAt, id);
CREATE INDEX jobs_by_type ON jobs (type, createdAt, id);
CREATE INDEX jobs_by_instance ON jobs (instanceId, createdAt, id);
CREATE INDEX jobs_by_plan ON jobs (planId, createdAt, id) WHERE planId IS NOT NULL;
CREATE INDEX jobs_by_created ON jobs (createdAt, id);

CREATE TABLE points (
  id TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  instanceId TEXT NOT NULL,
  planId TEXT,
  status TEXT NOT NULL,
  completedAt INTEGER NOT NULL,
  expiryBucket TEXT,
  effectiveExpireAt INTEGER NOT NULL
) STRICT;
CREATE INDEX points_by_instance ON points (instanceId, completedAt, id);
CREATE INDEX points_by_plan ON points (planId, completedAt, id) WHERE planId IS NOT NULL;
CREATE INDEX points_by_status ON points (status, completedAt, id);
CREATE INDEX points_by_completed ON points (completedAt, id);
CREATE INDEX points_expiry ON points (expiryBucket, effectiveExpireAt, id) WHERE expiryBucket IS NOT NULL;

CREATE TABLE instances (
  instanceId TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  createdAt INTEGER NOT NULL
) STRICT;
CREATE INDEX instances_by_created ON instances (createdAt, instanceId);

CREATE TABLE exports (
  id TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  backupId TEXT NOT NULL,
  instanceId TEXT NOT NULL,
  createdAt INTEGER NOT NULL
) STRICT;
CREATE INDEX exports_by_backup ON exports (backupId, createdAt, id);
CREATE INDEX exports_by_instance ON exports (instanceId, createdAt, id);
CREATE INDEX exports_by_created ON exports (createdAt, id);

CREATE TABLE idempotency (
  key TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  expireAt INTEGER NOT NULL
) STRICT;
-- Tablestore drops these rows by table TTL; here a purge on write uses this index.
CREATE INDEX idempotency_ttl ON idempotency (expireAt);
`,
  },
  {
    version: 4,
    name: 'notification subscriptions and deliveries',
    sql: `
CREATE TABLE subscriptions (
  id TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  createdAt INTEGER NOT NULL
) STRICT;
CREATE INDEX subscriptions_by_created ON subscriptions (createdAt, id);

CREATE TABLE deliveries (
  id TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  subscriptionId TEXT NOT NULL,
  createdAt INTEGER NOT NULL
) STRICT;
CREATE INDEX deliveries_by_subscription ON deliveries (subscriptionId, createdAt, id);
`,
  },
  {
    version: 5,
    name: 'protection rules, and the rule that protects an instance',
    sql: `
CREATE TABLE protection_rules (
  id TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  createdAt INTEGER NOT NULL
) STRICT;
CREATE INDEX protection_rules_by_created ON protection_rules (createdAt, id);

ALTER TABLE instances ADD COLUMN ruleId TEXT;
CREATE INDEX instances_by_rule ON instances (ruleId, createdAt, instanceId) WHERE ruleId IS NOT NULL;
`,
  },
  {
    version: 6,
    name: 'copy expiries, and locked backups in their own expiry bucket',
    sql: `
CREATE TABLE copy_expiries (
  id TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  expireAt INTEGER NOT NULL
) STRICT;
CREATE INDEX copy_expiries_due ON copy_expiries (expireAt, id);

-- Copies recorded before this version: a row for each copy still present in its region.
INSERT INTO copy_expiries (id, version, doc, expireAt)
SELECT p.id || '@' || json_extract(c.value, '$.regionId'), 1,
  json_object('id', p.id || '@' || json_extract(c.value, '$.regionId'), 'pointId', p.id,
    'regionId', json_extract(c.value, '$.regionId'), 'expireAt', json_extract(c.value, '$.expireAt'),
    'version', 1),
  json_extract(c.value, '$.expireAt')
FROM points p, json_each(p.doc, '$.copies') c
WHERE json_extract(c.value, '$.status') IN ('available', 'delete_failed')
  AND json_extract(c.value, '$.expireAt') > 0;

UPDATE points SET expiryBucket = 'locked'
WHERE expiryBucket IS NOT NULL AND json_extract(doc, '$.lock') IS NOT NULL;
`,
  },
];
