import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../lib/adapters/sqlite/index.js';
import { describeStoreContract } from './store.contract.js';
import { aJob, expectOk, type StoreHarness } from './support/store-fixtures.js';

async function sqliteHarness(): Promise<StoreHarness & { file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecsb-store-'));
  const file = path.join(dir, 'state.db');
  let store = openSqliteStore(file, { synchronous: 'NORMAL' });
  return {
    file,
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = openSqliteStore(file, { synchronous: 'NORMAL' });
      return store;
    },
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeStoreContract('SQLite', sqliteHarness);

describe('SQLite store across connections', () => {
  it('two connections on one file: a conditional update race has exactly one winner', async () => {
    const h = await sqliteHarness();
    const file = h.file;
    const other = openSqliteStore(file, { synchronous: 'NORMAL' });
    try {
      const base = expectOk(await h.store.jobs.create(aJob({ id: 'job-1' })));
      const [a, b] = await Promise.all([
        h.store.jobs.update({ ...base, step: 'a' }, 1),
        other.jobs.update({ ...base, step: 'b' }, 1),
      ]);
      expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
      expect((await other.jobs.get('job-1'))?.version).toBe(2);
      expect(await h.store.jobs.get('job-1')).toEqual(await other.jobs.get('job-1'));
    } finally {
      await other.close();
      await h.cleanup();
    }
  });

  it('uses WAL, the chosen synchronous level, a busy timeout, a page cache and memory-mapped reads', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ecsb-store-'));
    const store = openSqliteStore(path.join(dir, 's.db'), { busyTimeoutMs: 1234 });
    try {
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      // 2 = FULL, the default: a committed step survives a power cut.
      expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
      expect(store.db.pragma('busy_timeout', { simple: true })).toBe(1234);
      expect(store.db.pragma('cache_size', { simple: true })).toBe(-32 * 1024);
      expect(store.db.pragma('mmap_size', { simple: true })).toBe(1024 * 1024 * 1024);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
