import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../../lib/adapters/sqlite/index.js';
import type { BackupPoint } from '../../../lib/domain/model.js';
import { listBackupsByVerification } from '../../../lib/usecases/verify/list.js';
import { ManualClock } from '../../support/clock.js';
import { aPoint } from '../domain/builders.js';

let store: SqliteStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

const VERDICTS = [
  'passed',
  'none',
  'failed',
  'none',
  'none',
  'none',
  'failed',
  'passed',
  'none',
  'failed',
] as const;

function point(i: number): BackupPoint {
  const p = aPoint(`bp-${String(i).padStart(2, '0')}`)
    .completedAt(1_000 * i)
    .expiring(1_000_000)
    .build();
  const v = VERDICTS[i]!;
  if (v === 'none') return p;
  return {
    ...p,
    verification: { status: v, at: 1, reason: null, durationSeconds: 1, jobId: `${p.id}.verify` },
  };
}

describe('backups by verification', () => {
  it.each(['passed', 'failed', 'none'] as const)(
    'following cursors sees every %s backup once, newest first, never more than the limit a page',
    async (wanted) => {
      store = openSqliteStore(':memory:', { clock: new ManualClock(0) });
      await store.points.createMany(VERDICTS.map((_, i) => point(i)));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listBackupsByVerification(
          { store: store },
          {},
          { limit: 2, ...(cursor ? { cursor } : {}) },
          wanted,
        );
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((p) => p.id));
        cursor = page.cursor;
      } while (cursor);
      const expected = VERDICTS.map((v, i) => [v, point(i).id] as const)
        .filter(([v]) => v === wanted)
        .map(([, id]) => id)
        .reverse();
      expect(seen).toEqual(expected);
    },
  );
});
