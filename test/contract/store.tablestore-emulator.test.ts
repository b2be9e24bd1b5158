import TableStore from 'tablestore';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { translateError } from '../../lib/adapters/tablestore/index.js';
import { startTablestoreEmulator, type TablestoreEmulator } from '../../local/tablestore-emulator/index.js';

/** The emulator's protocol behaviour, exercised through the official SDK alone. */

const KEY = { accessKeyId: 'k-id', accessKeySecret: 'k-secret' };
const {
  Condition,
  RowExistenceExpectation: RE,
  SingleColumnCondition,
  CompositeCondition,
  ComparatorType: CT,
  LogicalOperator,
  Long,
} = TableStore;

let emulator: TablestoreEmulator;
let sdk: TableStore.Client;
let clock: number;

function client(overrides: Partial<TableStore.ConfigOptions> = {}): TableStore.Client {
  return new TableStore.Client({
    endpoint: emulator.endpoint,
    instancename: 'inst',
    accessKeyId: KEY.accessKeyId,
    secretAccessKey: KEY.accessKeySecret,
    maxRetries: 0,
    ...overrides,
  });
}

async function code(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'no error',
    (e: unknown) => translateError(e).code,
  );
}

const ignore = () => new Condition(RE.IGNORE, null);

async function createItems(indexes = true): Promise<void> {
  await sdk.createTable({
    tableMeta: {
      tableName: 'items',
      primaryKey: [
        { name: 'part', type: 'STRING' },
        { name: 'n', type: 'INTEGER' },
      ],
      definedColumn: [
        { name: 'color', type: 4 },
        { name: 'size', type: 1 },
      ] as never,
    },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: -1, maxVersions: 1 },
    indexMetas: indexes ? [{ name: 'items_by_color', primaryKey: ['color', 'size'], definedColumn: [] }] : [],
  });
}

async function put(part: string, n: number, attrs: TableStore.AttributesInput, condition = ignore()) {
  return sdk.putRow({
    tableName: 'items',
    primaryKey: [{ part }, { n: Long.fromNumber(n) }],
    attributeColumns: attrs,
    condition,
  });
}

async function range(
  tableName: string,
  direction: 'FORWARD' | 'BACKWARD',
  start: TableStore.PrimaryKeyInput,
  end: TableStore.PrimaryKeyInput,
  limit?: number,
) {
  return sdk.getRange({
    tableName,
    direction,
    inclusiveStartPrimaryKey: start,
    exclusiveEndPrimaryKey: end,
    limit,
  });
}

const keyOf = (row: TableStore.Row) =>
  (row.primaryKey ?? [])
    .map((c) => (typeof c.value === 'string' ? c.value : (c.value as { toNumber(): number }).toNumber()))
    .join('/');

beforeEach(async () => {
  clock = Date.UTC(2026, 0, 1);
  emulator = await startTablestoreEmulator({ instanceName: 'inst', ...KEY, now: () => clock });
  sdk = client();
});

afterEach(async () => {
  await emulator.close();
});

describe('Tablestore emulator: tables', () => {
  it('creates, lists, describes and deletes tables with their global indexes', async () => {
    await createItems();
    expect((await sdk.listTable({})).tableNames).toEqual(['items']);
    const d = (await sdk.describeTable({ tableName: 'items' })) as unknown as {
      tableMeta: { primaryKey: { name: string }[] };
      indexMetas: { name: string; primaryKey: string[] }[];
    };
    expect(d.tableMeta.primaryKey.map((p) => p.name)).toEqual(['part', 'n']);
    expect(d.indexMetas).toEqual([
      expect.objectContaining({ name: 'items_by_color', primaryKey: ['color', 'size', 'part', 'n'] }),
    ]);
    expect(await code(createItems())).toBe('OTSObjectAlreadyExist');
    await sdk.deleteTable({ tableName: 'items' });
    expect((await sdk.listTable({})).tableNames).toEqual([]);
    expect(await code(sdk.describeTable({ tableName: 'items' }))).toBe('OTSObjectNotExist');
    expect(
      await code(
        range('items_by_color', 'FORWARD', [{ color: TableStore.INF_MIN }], [{ color: TableStore.INF_MAX }]),
      ),
    ).toBe('OTSObjectNotExist');
  });

  it('refuses invalid table definitions', async () => {
    const base = {
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: -1, maxVersions: 1 },
    };
    expect(
      await code(
        sdk.createTable({
          ...base,
          tableMeta: { tableName: 'bad-name', primaryKey: [{ name: 'id', type: 'STRING' }] },
        }),
      ),
    ).toBe('OTSParameterInvalid');
    expect(
      await code(
        sdk.createTable({
          ...base,
          tableOptions: { timeToLive: 3600, maxVersions: 1 },
          tableMeta: { tableName: 'ttl', primaryKey: [{ name: 'id', type: 'STRING' }] },
        }),
      ),
    ).toBe('OTSParameterInvalid');
    expect(
      await code(
        sdk.createTable({
          ...base,
          tableMeta: { tableName: 'ix', primaryKey: [{ name: 'id', type: 'STRING' }] },
          indexMetas: [{ name: 'ix_x', primaryKey: ['undefined_col'], definedColumn: [] }],
        }),
      ),
    ).toBe('OTSParameterInvalid');
  });

  it('adds an index to an existing table from its rows, and drops it', async () => {
    await createItems(false);
    await put('a', 1, [{ color: 'red' }, { size: Long.fromNumber(3) }]);
    await sdk.createIndex({
      mainTableName: 'items',
      indexMeta: { name: 'later', primaryKey: ['size'], definedColumn: [] },
      includeBaseData: true,
    } as never);
    const rows = await range(
      'later',
      'FORWARD',
      [{ size: TableStore.INF_MIN }, { part: TableStore.INF_MIN }, { n: TableStore.INF_MIN }],
      [{ size: TableStore.INF_MAX }, { part: TableStore.INF_MAX }, { n: TableStore.INF_MAX }],
    );
    expect(rows.rows.map(keyOf)).toEqual(['3/a/1']);
    await sdk.dropIndex({ mainTableName: 'items', indexName: 'later' });
    expect(
      await code(range('later', 'FORWARD', [{ size: TableStore.INF_MIN }], [{ size: TableStore.INF_MAX }])),
    ).toBe('OTSObjectNotExist');
  });

  it('drops rows older than the table TTL', async () => {
    await sdk.createTable({
      tableMeta: { tableName: 'short', primaryKey: [{ name: 'id', type: 'STRING' }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: 86_400, maxVersions: 1 },
    });
    await sdk.putRow({
      tableName: 'short',
      primaryKey: [{ id: 'x' }],
      attributeColumns: [{ v: 'a' }],
      condition: ignore(),
    });
    clock += 86_399_000;
    expect(
      (await sdk.getRow({ tableName: 'short', primaryKey: [{ id: 'x' }] })).row?.primaryKey,
    ).toBeTruthy();
    clock += 2_000;
    expect((await sdk.getRow({ tableName: 'short', primaryKey: [{ id: 'x' }] })).row?.primaryKey).toBeFalsy();
    // Gone means absent for conditions too.
    await sdk.putRow({
      tableName: 'short',
      primaryKey: [{ id: 'x' }],
      attributeColumns: [{ v: 'b' }],
      condition: new Condition(RE.EXPECT_NOT_EXIST, null),
    });
  });
});

describe('Tablestore emulator: rows and conditions', () => {
  beforeEach(async () => {
    await createItems();
  });

  it('puts, gets, updates and deletes rows, keeping integers as integers', async () => {
    await put('a', 1, [{ color: 'red' }, { size: Long.fromNumber(5) }, { ratio: 0.5 }, { ok: true }]);
    const got = await sdk.getRow({
      tableName: 'items',
      primaryKey: [{ part: 'a' }, { n: Long.fromNumber(1) }],
    });
    const attrs = new Map((got.row?.attributes ?? []).map((a) => [a.columnName, a.columnValue]));
    expect((attrs.get('size') as { toNumber(): number }).toNumber()).toBe(5);
    expect(attrs.get('ratio')).toBe(0.5);
    expect(attrs.get('ok')).toBe(true);
    await sdk.updateRow({
      tableName: 'items',
      primaryKey: [{ part: 'a' }, { n: Long.fromNumber(1) }],
      updateOfAttributeColumns: [
        { PUT: [{ color: 'blue' }] },
        { DELETE_ALL: ['ratio'] },
        { INCREMENT: [{ size: Long.fromNumber(2) }] },
      ],
      condition: ignore(),
    });
    const after = await sdk.getRow({
      tableName: 'items',
      primaryKey: [{ part: 'a' }, { n: Long.fromNumber(1) }],
      columnsToGet: ['color', 'size', 'ratio'],
    });
    expect(after.row?.attributes?.map((a) => [a.columnName, String(a.columnValue)])).toEqual([
      ['color', 'blue'],
      ['size', '7'],
    ]);
    await sdk.deleteRow({
      tableName: 'items',
      primaryKey: [{ part: 'a' }, { n: Long.fromNumber(1) }],
      condition: ignore(),
    });
    expect(
      (await sdk.getRow({ tableName: 'items', primaryKey: [{ part: 'a' }, { n: Long.fromNumber(1) }] })).row
        ?.primaryKey,
    ).toBeFalsy();
  });

  it('refuses a value of the wrong type for a defined column (a double where an integer is defined)', async () => {
    expect(await code(put('a', 1, [{ size: 5 }]))).toBe('OTSParameterInvalid');
    expect(await code(put('a', 1, [{ color: 'ok' }]))).toBe('no error');
    expect(
      await code(
        sdk.putRow({
          tableName: 'items',
          primaryKey: [{ part: 'a' }],
          attributeColumns: [],
          condition: ignore(),
        }),
      ),
    ).toBe('OTSParameterInvalid');
  });

  it('checks row existence expectations', async () => {
    expect(await code(put('a', 1, [{ color: 'red' }], new Condition(RE.EXPECT_EXIST, null)))).toBe(
      'OTSConditionCheckFail',
    );
    expect(await code(put('a', 1, [{ color: 'red' }], new Condition(RE.EXPECT_NOT_EXIST, null)))).toBe(
      'no error',
    );
    expect(await code(put('a', 1, [{ color: 'red' }], new Condition(RE.EXPECT_NOT_EXIST, null)))).toBe(
      'OTSConditionCheckFail',
    );
    expect(
      await code(
        sdk.deleteRow({
          tableName: 'items',
          primaryKey: [{ part: 'b' }, { n: Long.fromNumber(1) }],
          condition: new Condition(RE.EXPECT_EXIST, null),
        }),
      ),
    ).toBe('OTSConditionCheckFail');
  });

  it('checks single and composite column conditions, with pass-if-missing', async () => {
    await put('a', 1, [{ color: 'red' }, { size: Long.fromNumber(5) }]);
    const cond = (c: TableStore.ColumnCondition) => new Condition(RE.EXPECT_EXIST, c);
    const single = (
      col: string,
      v: TableStore.CellValue,
      cmp: (typeof CT)[keyof typeof CT],
      passIfMissing = false,
    ) => new SingleColumnCondition(col, v, cmp, passIfMissing);
    const write = (c: TableStore.ColumnCondition) =>
      code(put('a', 1, [{ color: 'red' }, { size: Long.fromNumber(5) }], cond(c)));

    expect(await write(single('size', Long.fromNumber(5), CT.EQUAL))).toBe('no error');
    expect(await write(single('size', Long.fromNumber(4), CT.EQUAL))).toBe('OTSConditionCheckFail');
    expect(await write(single('size', Long.fromNumber(4), CT.GREATER_THAN))).toBe('no error');
    expect(await write(single('size', Long.fromNumber(5), CT.GREATER_THAN))).toBe('OTSConditionCheckFail');
    expect(await write(single('size', Long.fromNumber(5), CT.GREATER_EQUAL))).toBe('no error');
    expect(await write(single('size', Long.fromNumber(5), CT.LESS_EQUAL))).toBe('no error');
    expect(await write(single('size', Long.fromNumber(4), CT.LESS_EQUAL))).toBe('OTSConditionCheckFail');
    // A value of another type never equals: a double 5 is not the integer 5.
    expect(await write(single('size', 5, CT.EQUAL))).toBe('OTSConditionCheckFail');
    expect(await write(single('size', Long.fromNumber(5), CT.LESS_THAN))).toBe('OTSConditionCheckFail');
    expect(await write(single('color', 'red', CT.NOT_EQUAL))).toBe('OTSConditionCheckFail');
    expect(await write(single('missing', 'x', CT.EQUAL, false))).toBe('OTSConditionCheckFail');
    expect(await write(single('missing', 'x', CT.EQUAL, true))).toBe('no error');

    const and = new CompositeCondition(LogicalOperator.AND);
    and.addSubCondition(single('size', Long.fromNumber(5), CT.EQUAL));
    and.addSubCondition(single('color', 'red', CT.EQUAL));
    expect(await write(and)).toBe('no error');
    const or = new CompositeCondition(LogicalOperator.OR);
    or.addSubCondition(single('size', Long.fromNumber(9), CT.EQUAL));
    or.addSubCondition(single('color', 'blue', CT.EQUAL));
    expect(await write(or)).toBe('OTSConditionCheckFail');
    const not = new CompositeCondition(LogicalOperator.NOT);
    not.addSubCondition(or);
    expect(await write(not)).toBe('no error');

    const tooMany = new CompositeCondition(LogicalOperator.AND);
    for (let i = 0; i < 11; i += 1) tooMany.addSubCondition(single('size', Long.fromNumber(5), CT.EQUAL));
    expect(await write(tooMany)).toBe('OTSParameterInvalid');
  });
});

describe('Tablestore emulator: ranges, batches and indexes', () => {
  const MIN: typeof TableStore.INF_MIN = TableStore.INF_MIN;
  const MAX: typeof TableStore.INF_MAX = TableStore.INF_MAX;

  beforeEach(async () => {
    await createItems();
    for (let n = 1; n <= 7; n += 1) {
      await put('p', n, [{ color: n % 2 === 0 ? 'even' : 'odd' }, { size: Long.fromNumber(10 - n) }]);
    }
    await put('q', 1, [{ size: Long.fromNumber(1) }]);
  });

  it('reads a range forward and backward, with limits and the next start key', async () => {
    const fwd = await range('items', 'FORWARD', [{ part: 'p' }, { n: MIN }], [{ part: 'p' }, { n: MAX }], 3);
    expect(fwd.rows.map(keyOf)).toEqual(['p/1', 'p/2', 'p/3']);
    expect(fwd.nextStartPrimaryKey?.map((c) => c.name)).toEqual(['part', 'n']);
    const next = fwd.nextStartPrimaryKey?.map((c) => ({ [c.name]: c.value })) ?? [];
    const rest = await range('items', 'FORWARD', next, [{ part: 'p' }, { n: MAX }]);
    expect(rest.rows.map(keyOf)).toEqual(['p/4', 'p/5', 'p/6', 'p/7']);
    expect(rest.nextStartPrimaryKey).toBeNull();

    const back = await range(
      'items',
      'BACKWARD',
      [{ part: 'p' }, { n: Long.fromNumber(6) }],
      [{ part: 'p' }, { n: Long.fromNumber(2) }],
      2,
    );
    expect(back.rows.map(keyOf)).toEqual(['p/6', 'p/5']);
    const backNext = back.nextStartPrimaryKey?.map((c) => ({ [c.name]: c.value })) ?? [];
    const backRest = await range(
      'items',
      'BACKWARD',
      backNext,
      [{ part: 'p' }, { n: Long.fromNumber(2) }],
      2,
    );
    expect(backRest.rows.map(keyOf)).toEqual(['p/4', 'p/3']);
    expect(backRest.nextStartPrimaryKey).toBeNull();

    expect(
      await code(range('items', 'FORWARD', [{ part: 'q' }, { n: MIN }], [{ part: 'p' }, { n: MIN }])),
    ).toBe('OTSParameterInvalid');
    expect(
      await code(range('items', 'BACKWARD', [{ part: 'p' }, { n: MIN }], [{ part: 'q' }, { n: MIN }])),
    ).toBe('OTSParameterInvalid');
  });

  it('keeps a global index up to date on put, update and delete; rows missing a key column stay out', async () => {
    const all = async () =>
      (
        await range(
          'items_by_color',
          'FORWARD',
          [{ color: MIN }, { size: MIN }, { part: MIN }, { n: MIN }],
          [{ color: MAX }, { size: MAX }, { part: MAX }, { n: MAX }],
        )
      ).rows.map(keyOf);
    // q/1 has no color: not in the index.
    expect(await all()).toEqual([
      'even/4/p/6',
      'even/6/p/4',
      'even/8/p/2',
      'odd/3/p/7',
      'odd/5/p/5',
      'odd/7/p/3',
      'odd/9/p/1',
    ]);
    await sdk.updateRow({
      tableName: 'items',
      primaryKey: [{ part: 'p' }, { n: Long.fromNumber(1) }],
      updateOfAttributeColumns: [{ PUT: [{ color: 'even' }] }],
      condition: ignore(),
    });
    await sdk.deleteRow({
      tableName: 'items',
      primaryKey: [{ part: 'p' }, { n: Long.fromNumber(7) }],
      condition: ignore(),
    });
    await sdk.updateRow({
      tableName: 'items',
      primaryKey: [{ part: 'p' }, { n: Long.fromNumber(3) }],
      updateOfAttributeColumns: [{ DELETE_ALL: ['color'] }],
      condition: ignore(),
    });
    expect(await all()).toEqual(['even/4/p/6', 'even/6/p/4', 'even/8/p/2', 'even/9/p/1', 'odd/5/p/5']);
    const evenDesc = await range(
      'items_by_color',
      'BACKWARD',
      [{ color: 'even' }, { size: MAX }, { part: MAX }, { n: MAX }],
      [{ color: 'even' }, { size: MIN }, { part: MIN }, { n: MIN }],
      2,
    );
    expect(evenDesc.rows.map(keyOf)).toEqual(['even/9/p/1', 'even/8/p/2']);
    expect(
      await code(
        put('x', 1, [], undefined).then(() =>
          sdk.putRow({
            tableName: 'items_by_color',
            primaryKey: [{ color: 'x' }],
            attributeColumns: [],
            condition: ignore(),
          }),
        ),
      ),
    ).toBe('OTSObjectNotExist');
  });

  it('writes up to 200 rows per BatchWriteRow with per-row results, and refuses more', async () => {
    const row = (n: number, condition = ignore()) => ({
      type: 'PUT' as const,
      condition,
      primaryKey: [{ part: 'b' }, { n: Long.fromNumber(n) }] as TableStore.PrimaryKeyInput,
      attributeColumns: [{ color: 'c' }],
    });
    const res = await sdk.batchWriteRow({
      tables: [
        {
          tableName: 'items',
          rows: [
            row(1),
            row(2, new Condition(RE.EXPECT_EXIST, null)),
            { type: 'DELETE', condition: ignore(), primaryKey: [{ part: 'p' }, { n: Long.fromNumber(1) }] },
          ],
        },
      ],
    });
    expect(res.tables.map((r) => [r.isOk, r.errorCode])).toEqual([
      [true, null],
      [false, 'OTSConditionCheckFail'],
      [true, null],
    ]);
    expect(
      (await range('items', 'FORWARD', [{ part: 'b' }, { n: MIN }], [{ part: 'b' }, { n: MAX }])).rows.map(
        keyOf,
      ),
    ).toEqual(['b/1']);
    const ok200 = await sdk.batchWriteRow({
      tables: [{ tableName: 'items', rows: Array.from({ length: 200 }, (_, n) => row(100 + n)) }],
    });
    expect(ok200.tables.every((r) => r.isOk)).toBe(true);
    expect(
      await code(
        sdk.batchWriteRow({
          tables: [{ tableName: 'items', rows: Array.from({ length: 201 }, (_, n) => row(1000 + n)) }],
        }),
      ),
    ).toBe('OTSParameterInvalid');
    expect(await code(sdk.batchWriteRow({ tables: [{ tableName: 'items', rows: [row(5), row(5)] }] }))).toBe(
      'OTSParameterInvalid',
    );
  });

  it('reads up to 100 rows per BatchGetRow, missing rows as empty, and refuses more', async () => {
    const pk = (part: string, n: number): TableStore.PrimaryKeyInput => [{ part }, { n: Long.fromNumber(n) }];
    const res = await sdk.batchGetRow({
      tables: [{ tableName: 'items', primaryKey: [pk('p', 2), pk('p', 99), pk('q', 1)] }],
    });
    expect(res.tables[0]?.map((r) => [r.isOk, r.primaryKey === null ? null : keyOf(r)])).toEqual([
      [true, 'p/2'],
      [true, null],
      [true, 'q/1'],
    ]);
    expect(
      await code(
        sdk.batchGetRow({
          tables: [{ tableName: 'items', primaryKey: Array.from({ length: 101 }, (_, n) => pk('p', n)) }],
        }),
      ),
    ).toBe('OTSParameterInvalid');
  });
});

describe('Tablestore emulator: authentication', () => {
  beforeEach(async () => {
    await createItems();
  });

  it('accepts the configured key and refuses a wrong secret, key id or instance', async () => {
    expect(await code(client().listTable({}))).toBe('no error');
    expect(await code(client({ secretAccessKey: 'nope' }).listTable({}))).toBe('OTSAuthFailed');
    expect(await code(client({ accessKeyId: 'other' }).listTable({}))).toBe('OTSAuthFailed');
    expect(await code(client({ instancename: 'other' }).listTable({}))).toBe('OTSAuthFailed');
  });

  it('requires the STS token when one is configured', async () => {
    const sts = await startTablestoreEmulator({ instanceName: 'inst', ...KEY, securityToken: 'tok' });
    try {
      const c = (token?: string) =>
        new TableStore.Client({
          endpoint: sts.endpoint,
          instancename: 'inst',
          accessKeyId: KEY.accessKeyId,
          secretAccessKey: KEY.accessKeySecret,
          maxRetries: 0,
          ...(token ? { stsToken: token } : {}),
        });
      expect(await code(c('tok').listTable({}))).toBe('no error');
      expect(await code(c('bad').listTable({}))).toBe('OTSAuthFailed');
      expect(await code(c().listTable({}))).toBe('OTSAuthFailed');
    } finally {
      await sts.close();
    }
  });
});
