import TableStore from 'tablestore';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TablestoreEmulator } from '../../local/tablestore-emulator/index.js';
import {
  TablestoreClient,
  TablestoreError,
  createTablestoreStore,
  isConditionFailed,
  translateError,
} from '../../lib/adapters/tablestore/index.js';
import {
  T0,
  aJob,
  aPlan,
  anExport,
  anIdempotencyRecord,
  expectOk,
  ids,
  seq,
  type StoreHarness,
} from './support/store-fixtures.js';
import { EMULATOR_KEY, connection, startEmulator, tablestoreHarness } from './support/store-tablestore.js';

let emulator: TablestoreEmulator;

beforeAll(async () => {
  emulator = await startEmulator();
});

afterAll(async () => {
  await emulator.close();
});

describe('Tablestore adapter specifics', () => {
  let h: StoreHarness & { prefix: string };
  const delays: number[] = [];
  const noSleep = async (ms: number) => {
    delays.push(ms);
  };

  beforeEach(async () => {
    delays.length = 0;
    h = await tablestoreHarness(emulator, { sleep: noSleep, maxRetries: 3 });
  });

  afterEach(async () => {
    emulator.clearFaults();
    await h.cleanup();
  });

  it('recognises a failed condition from the raw SDK error (numeric 403 + code in the message)', async () => {
    const client = new TablestoreClient({ ...connection(emulator) });
    const put = () =>
      client.raw.putRow({
        tableName: `${h.prefix}plans`,
        primaryKey: [{ id: 'plan-raw' }],
        attributeColumns: [{ doc: '{}' }],
        condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null),
      });
    await put();
    const raw = await put().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(raw).toMatchObject({ code: 403 });
    expect(isConditionFailed(raw)).toBe(true);
    expect(translateError(raw)).toMatchObject({ code: 'OTSConditionCheckFail', status: 403 });
    expect(Array.from(translateError(raw).message).every((ch) => ch.charCodeAt(0) >= 0x20)).toBe(true);
    expect(isConditionFailed(new Error('OTSConditionCheckFail'))).toBe(false);
  });

  it('writes integers as Tablestore integers, not doubles', async () => {
    await h.store.jobs.create(aJob({ id: 'job-1', createdAt: T0 }));
    const client = new TablestoreClient(connection(emulator));
    const res = await client.read((sdk) =>
      sdk.getRow({ tableName: `${h.prefix}jobs`, primaryKey: [{ id: 'job-1' }] }),
    );
    const attrs = new Map((res.row?.attributes ?? []).map((a) => [a.columnName, a.columnValue]));
    for (const name of ['version', 'createdAt']) {
      const v = attrs.get(name) as { toNumber?: () => number } | undefined;
      expect(typeof v?.toNumber, name).toBe('function');
    }
    expect((attrs.get('createdAt') as { toNumber(): number }).toNumber()).toBe(T0);
    // A null column is left out, so the job stays out of the sparse by-plan index.
    expect(attrs.has('planId')).toBe(false);
  });

  it('retries a throttled write with backoff and succeeds', async () => {
    emulator.injectFault('PutRow', { status: 503, code: 'OTSServerBusy' }, 2);
    const before = emulator.requestCount('PutRow');
    expect(await h.store.plans.create(aPlan({ id: 'plan-1' }))).toMatchObject({ ok: true });
    expect(emulator.requestCount('PutRow') - before).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it('gives up after maxRetries with the service error, bounded backoff in between', async () => {
    emulator.injectFault('GetRow', { status: 503, code: 'OTSServerBusy' }, 10);
    const before = emulator.requestCount('GetRow');
    const err = await h.store.plans.get('plan-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TablestoreError);
    expect(err).toMatchObject({ code: 'OTSServerBusy', status: 503 });
    expect(emulator.requestCount('GetRow') - before).toBe(4);
    expect(delays).toHaveLength(3);
    for (const [n, d] of delays.entries()) expect(d).toBeLessThanOrEqual(100 * 2 ** n);
  });

  it('does not retry errors that will not change (bad credentials)', async () => {
    const bad = createTablestoreStore({
      ...connection(emulator),
      tablePrefix: h.prefix,
      accessKeySecret: 'wrong',
      sleep: noSleep,
    });
    const before = emulator.requestCount();
    await expect(bad.plans.get('plan-1')).rejects.toMatchObject({
      name: 'TablestoreError',
      code: 'OTSAuthFailed',
    });
    expect(emulator.requestCount() - before).toBe(1);
    expect(delays).toHaveLength(0);
  });

  it('a create whose answer was lost is retried and reported as created, not as `exists`', async () => {
    emulator.injectFault('PutRow', { status: 500, code: 'OTSInternalServerError', afterApply: true });
    expect(await h.store.jobs.create(aJob({ id: 'job-1' }))).toMatchObject({
      ok: true,
      value: { version: 1 },
    });
  });

  it('an update whose answer was lost is reported as applied once', async () => {
    const job = expectOk(await h.store.jobs.create(aJob({ id: 'job-1' })));
    emulator.injectFault('PutRow', { reset: true, afterApply: true });
    const res = await h.store.jobs.update({ ...job, step: 'snapshot' }, 1);
    expect(res).toMatchObject({ ok: true, value: { version: 2, step: 'snapshot' } });
    expect(await h.store.jobs.get('job-1')).toMatchObject({ version: 2, step: 'snapshot' });
  });

  it('a delete whose answer was lost is reported as done', async () => {
    await h.store.exports.create(anExport({ id: 'exp-1' }));
    emulator.injectFault('DeleteRow', { status: 503, code: 'OTSServerUnavailable', afterApply: true });
    expect(await h.store.exports.delete('exp-1', 1)).toEqual({ ok: true, value: undefined });
  });

  it('a lost answer does not hide a real conflict', async () => {
    const job = expectOk(await h.store.jobs.create(aJob({ id: 'job-1' })));
    expectOk(await h.store.jobs.update({ ...job, step: 'other-writer' }, 1));
    emulator.injectFault('PutRow', { status: 500, code: 'OTSInternalServerError' });
    expect(await h.store.jobs.update({ ...job, step: 'mine' }, 1)).toMatchObject({
      ok: false,
      reason: 'conflict',
      current: { step: 'other-writer' },
    });
  });

  it('writes in BatchWriteRow calls of at most 200 rows and reads in BatchGetRow calls of at most 100', async () => {
    const writes = emulator.requestCount('BatchWriteRow');
    const items = Array.from({ length: 401 }, (_, n) => aJob({ id: seq('job-', n), createdAt: T0 + n }));
    const results = await h.store.jobs.createMany(items);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(emulator.requestCount('BatchWriteRow') - writes).toBe(3);
    const reads = emulator.requestCount('BatchGetRow');
    expect(await h.store.jobs.getMany(items.map((j) => j.id))).toHaveLength(401);
    expect(emulator.requestCount('BatchGetRow') - reads).toBe(5);
  });

  it('createMany retries rows the service refused and reports duplicates in the input as `exists`', async () => {
    emulator.injectFault('BatchWriteRow', { status: 503, code: 'OTSServerBusy' });
    const results = await h.store.plans.createMany([
      aPlan({ id: 'plan-1' }),
      aPlan({ id: 'plan-2' }),
      aPlan({ id: 'plan-1', name: 'dup' }),
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['ok', 'ok', 'exists']);
    expect(results[2]).toMatchObject({ current: { id: 'plan-1', name: 'plan-plan-1' } });
  });

  it('follows nextStartPrimaryKey across GetRange pages in both directions when the filter is sparse', async () => {
    await h.store.jobs.createMany(
      Array.from({ length: 120 }, (_, n) =>
        aJob({
          id: seq('job-', n),
          instanceId: 'i-many',
          status: n % 40 === 7 ? 'FAILED' : 'COMPLETE',
          createdAt: T0 + n,
        }),
      ),
    );
    for (const order of ['asc', 'desc'] as const) {
      const before = emulator.requestCount('GetRange');
      const page = await h.store.jobs.list({ instanceId: 'i-many', status: 'FAILED' }, { order, limit: 10 });
      const expected = [seq('job-', 7), seq('job-', 47), seq('job-', 87)];
      expect(ids(page.items)).toEqual(order === 'asc' ? expected : expected.reverse());
      expect(page.cursor).toBeUndefined();
      expect(emulator.requestCount('GetRange') - before).toBeGreaterThan(1);
    }
  });

  it('sends the STS token; fresh credentials can be swapped in or come from a provider', async () => {
    const sts = await startEmulator({ securityToken: 'token-2' });
    try {
      const ht = await tablestoreHarness(sts, { securityToken: 'token-2' });
      const old = createTablestoreStore({
        ...connection(sts),
        tablePrefix: ht.prefix,
        securityToken: 'token-1',
      });
      await expect(old.idempotency.get('k')).rejects.toMatchObject({ code: 'OTSAuthFailed' });
      old.setCredentials({ ...EMULATOR_KEY, securityToken: 'token-2' });
      expect(await old.idempotency.put(anIdempotencyRecord({ key: 'k' }))).toMatchObject({ ok: true });
      expect(await ht.store.idempotency.get('k')).toMatchObject({ key: 'k' });
      // A credentials provider is read per request: rotating the token needs no new store.
      let token = 'token-1';
      const rotating = createTablestoreStore({
        endpoint: sts.endpoint,
        instanceName: sts.instanceName,
        tablePrefix: ht.prefix,
        credentials: () => ({ ...EMULATOR_KEY, securityToken: token }),
      });
      await expect(rotating.idempotency.get('k')).rejects.toMatchObject({ code: 'OTSAuthFailed' });
      token = 'token-2';
      expect(await rotating.idempotency.get('k')).toMatchObject({ key: 'k' });
      await ht.cleanup();
    } finally {
      await sts.close();
    }
  });
});
