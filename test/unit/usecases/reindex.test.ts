import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../../lib/adapters/sqlite/index.js';
import { reindexCopiesAndLocks } from '../../../lib/usecases/copy/reindex.js';
import { ManualClock } from '../../support/clock.js';
import { DAY, T0, aPoint, ids } from '../../contract/support/store-fixtures.js';

let store: SqliteStore | undefined;
afterEach(async () => {
  await store?.close();
});

const lock = { mode: 'governance' as const, lockedAt: T0, overrides: [] };
const copy = (regionId: string, status: 'available' | 'failed', expireAt: number) => ({
  regionId,
  jobId: `job.copy.${regionId}`,
  snapshotIds: status === 'available' ? ['s-copy'] : [],
  status,
  expireAt,
  reason: null,
});

describe('reindexing rows written before copy expiries and the locked expiry range', () => {
  it('indexes every copy present and moves locked backups to the locked range; running it again changes nothing', async () => {
    store = openSqliteStore(':memory:', { clock: new ManualClock(T0) });
    await store.points.createMany([
      aPoint({
        id: 'bp-1',
        effectiveExpireAt: T0 + 9 * DAY,
        lock,
        copies: [copy('cn-a', 'available', T0 + DAY)],
      }),
      aPoint({ id: 'bp-2', effectiveExpireAt: T0 + 9 * DAY, copies: [copy('cn-a', 'failed', 0)] }),
      aPoint({ id: 'bp-3', status: 'DELETED', copies: [copy('cn-b', 'available', T0 + 2 * DAY)] }),
      aPoint({ id: 'bp-4', effectiveExpireAt: T0 + 9 * DAY }),
    ]);
    // As an older version left them: no expiry rows, locked backups in the unlocked range.
    store.db.exec(
      "DELETE FROM copy_expiries; UPDATE points SET expiryBucket = 'eligible' WHERE expiryBucket IS NOT NULL",
    );
    expect((await store.points.locked(T0, 10)).items).toEqual([]);
    expect((await store.copyExpiries.due(T0 + 10 * DAY, 10)).items).toEqual([]);

    expect(await reindexCopiesAndLocks(store)).toEqual({ points: 4, copiesIndexed: 2, lockedRewritten: 1 });

    expect(ids((await store.points.locked(T0, 10)).items)).toEqual(['bp-1']);
    const due = (await store.copyExpiries.due(T0 + 10 * DAY, 10)).items;
    expect(due.map((r) => [r.id, r.expireAt])).toEqual([
      ['bp-1@cn-a', T0 + DAY],
      ['bp-3@cn-b', T0 + 2 * DAY],
    ]);
    await reindexCopiesAndLocks(store);
    expect((await store.copyExpiries.due(T0 + 10 * DAY, 10)).items).toEqual(due);
    expect(ids((await store.points.expired(T0 + 9 * DAY, 10)).items)).toEqual(['bp-1', 'bp-2', 'bp-4']);
  });
});
