import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { optionsFromEnvironment, provision } from '../../infra/provision.js';
import { QUEUES } from '../../infra/queues.js';
import { TABLE_LIST, indexKeyColumns } from '../../lib/schema/tables.js';
import { TablestoreClient, createTablestoreStore } from '../../lib/adapters/tablestore/index.js';
import { startMnsEmulator, type MnsEmulator } from '../../local/mns-emulator/index.js';
import type { TablestoreEmulator } from '../../local/tablestore-emulator/index.js';
import { aPlan, aPoint } from './support/store-fixtures.js';
import { EMULATOR_KEY, startEmulator } from './support/store-tablestore.js';

describe('infra/provision.ts', () => {
  let tablestore: TablestoreEmulator;
  let mns: MnsEmulator;

  beforeEach(async () => {
    tablestore = await startEmulator();
    mns = await startMnsEmulator(EMULATOR_KEY);
  });

  afterEach(async () => {
    await tablestore.close();
    await mns.close();
  });

  const options = (dryRun: boolean) => ({
    dryRun,
    tablestore: { endpoint: tablestore.endpoint, instanceName: tablestore.instanceName },
    mns: { endpoint: mns.endpoint },
    credentials: EMULATOR_KEY,
  });

  it('a dry run prints every table, index and queue and calls nothing', async () => {
    const lines = await provision(options(true));
    for (const t of TABLE_LIST) {
      expect(lines).toContainEqual(expect.stringContaining(`Tablestore table ecsb_${t.name} if missing`));
      for (const ix of t.indexes) {
        expect(lines).toContainEqual(
          expect.stringContaining(
            `global index ecsb_${ix.name} on ecsb_${t.name} if missing (${indexKeyColumns(t, ix).join(', ')})`,
          ),
        );
      }
    }
    for (const q of QUEUES) expect(lines).toContainEqual(expect.stringContaining(`queue ${q.name}`));
    expect(tablestore.requestCount()).toBe(0);
    const sdk = new TablestoreClient({
      endpoint: tablestore.endpoint,
      instanceName: tablestore.instanceName,
      ...EMULATOR_KEY,
    });
    expect((await sdk.read((c) => c.listTable({}))).tableNames).toEqual([]);
  });

  it('creates the tables and indexes of infra/tables.ts and the queues, and is safe to run again', async () => {
    const first = await provision(options(false));
    expect(first.filter((l) => l.startsWith('created Tablestore table'))).toHaveLength(TABLE_LIST.length);
    expect(first).toContainEqual(expect.stringMatching(/created queue ecs-backup-jobs\b/));
    expect(first).toContain('reindexed 0 backups: 0 copy expiries, 0 locked backups rewritten');

    const sdk = new TablestoreClient({
      endpoint: tablestore.endpoint,
      instanceName: tablestore.instanceName,
      ...EMULATOR_KEY,
    });
    expect((await sdk.read((c) => c.listTable({}))).tableNames.sort()).toEqual(
      TABLE_LIST.map((t) => `ecsb_${t.name}`).sort(),
    );
    for (const t of TABLE_LIST) {
      const d = (await sdk.read((c) => c.describeTable({ tableName: `ecsb_${t.name}` }))) as unknown as {
        indexMetas: { name: string; primaryKey: string[] }[];
        tableOptions: { timeToLive: number };
      };
      expect(d.indexMetas.map((ix) => [ix.name, ix.primaryKey])).toEqual(
        t.indexes.map((ix) => [`ecsb_${ix.name}`, indexKeyColumns(t, ix)]),
      );
      expect(d.tableOptions.timeToLive).toBe(t.ttl?.seconds ?? -1);
    }

    // The store works on what was provisioned.
    const store = createTablestoreStore({
      endpoint: tablestore.endpoint,
      instanceName: tablestore.instanceName,
      ...EMULATOR_KEY,
    });
    expect(await store.plans.create(aPlan({ id: 'plan-1' }))).toMatchObject({ ok: true });

    await sdk.read((c) => c.dropIndex({ mainTableName: 'ecsb_plans', indexName: 'ecsb_plans_due' }));
    const lock = { mode: 'compliance' as const, lockedAt: 0, overrides: [] };
    expect(await store.points.create(aPoint({ id: 'bp-1', lock }))).toMatchObject({ ok: true });
    const second = await provision(options(false));
    expect(second).toContain('reindexed 1 backups: 0 copy expiries, 1 locked backups rewritten');
    expect(second.filter((l) => l.startsWith('created Tablestore table'))).toEqual([]);
    expect(second.filter((l) => l.startsWith('created global index'))).toEqual([
      'created global index ecsb_plans_due on ecsb_plans (state, nextRunAt, id)',
    ]);
    // Rebuilt from the rows already there.
    expect((await store.plans.dueBefore(Number.MAX_SAFE_INTEGER - 1, 10)).map((p) => p.id)).toEqual([
      'plan-1',
    ]);
  });

  it('runs one half alone with --only', async () => {
    const lines = await provision({
      ...options(false),
      only: 'tables',
      provisionQueues: async () => ['queues were called'],
    });
    expect(lines).not.toContain('queues were called');
    const queuesOnly = await provision({ ...options(true), only: 'queues' });
    expect(queuesOnly.some((l) => l.includes('Tablestore'))).toBe(false);
  });

  it('reads settings from the environment and names each missing one', () => {
    expect(() => optionsFromEnvironment([], {})).toThrow(
      'missing settings: TABLESTORE_ENDPOINT, TABLESTORE_INSTANCE, MNS_ENDPOINT, ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    );
    expect(() => optionsFromEnvironment(['--only', 'queues'], { MNS_ENDPOINT: 'http://x' })).toThrow(
      'missing settings: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    );
    expect(optionsFromEnvironment(['--dry-run'], {})).toEqual({ dryRun: true });
    expect(
      optionsFromEnvironment(['--prefix', 'prod_'], {
        TABLESTORE_ENDPOINT: 'https://i.cn-hangzhou.ots.aliyuncs.com',
        TABLESTORE_INSTANCE: 'i',
        MNS_ENDPOINT: 'https://1.mns.cn-hangzhou.aliyuncs.com',
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'id',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret',
        ALIBABA_CLOUD_SECURITY_TOKEN: 'token',
      }),
    ).toEqual({
      dryRun: false,
      tablestore: {
        endpoint: 'https://i.cn-hangzhou.ots.aliyuncs.com',
        instanceName: 'i',
        tablePrefix: 'prod_',
      },
      mns: { endpoint: 'https://1.mns.cn-hangzhou.aliyuncs.com' },
      credentials: { accessKeyId: 'id', accessKeySecret: 'secret', securityToken: 'token' },
    });
    expect(() => optionsFromEnvironment(['--only', 'disks'], {})).toThrow(/--only/);
  });
});
