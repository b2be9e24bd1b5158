import type { WriteResult } from '../../ports/store.js';
import { ConditionFailed, TablestoreError, isInDoubtRowError, isRetryableRowError } from './client.js';
import {
  BATCH_WRITE_ROWS,
  ComparatorType,
  Condition,
  Long,
  RowExistenceExpectation,
  SingleColumnCondition,
  type Versioned,
} from './codec.js';
import { TablestoreTable } from './table.js';

/**
 * Create-if-absent and version-checked update and delete. A retried write whose first attempt landed
 * trips its own condition; comparing the stored row tells that apart from a real conflict.
 */
export class TablestoreConditionalWrites<T extends Versioned> extends TablestoreTable<T> {
  protected same(a: T | undefined, b: T): boolean {
    return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
  }

  async create(item: T): Promise<WriteResult<T>> {
    const stored = { ...item, version: 1 };
    try {
      await this.ctx.client.call((sdk) =>
        sdk.putRow({
          tableName: this.tableName,
          primaryKey: this.pk(this.keyOf(item)),
          attributeColumns: this.attributes(stored),
          condition: new Condition(RowExistenceExpectation.EXPECT_NOT_EXIST, null),
        }),
      );
      return { ok: true, value: stored };
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      const current = await this.get(this.keyOf(item));
      // A retried put whose first attempt landed trips its own condition: that is our row.
      if (err.ambiguous && this.same(current, stored)) return { ok: true, value: stored };
      return current === undefined
        ? { ok: false, reason: 'exists' }
        : { ok: false, reason: 'exists', current };
    }
  }

  async update(item: T, expectedVersion: number): Promise<WriteResult<T>> {
    const stored = { ...item, version: expectedVersion + 1 };
    const key = this.keyOf(item);
    try {
      await this.ctx.client.call((sdk) =>
        sdk.putRow({
          tableName: this.tableName,
          primaryKey: this.pk(key),
          attributeColumns: this.attributes(stored),
          condition: new Condition(
            RowExistenceExpectation.EXPECT_EXIST,
            new SingleColumnCondition(
              'version',
              Long.fromNumber(expectedVersion),
              ComparatorType.EQUAL,
              false,
            ),
          ),
        }),
      );
      return { ok: true, value: stored };
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      const current = await this.get(key);
      if (current === undefined) return { ok: false, reason: 'not_found' };
      if (err.ambiguous && this.same(current, stored)) return { ok: true, value: stored };
      return { ok: false, reason: 'conflict', current };
    }
  }

  async delete(id: string, expectedVersion?: number): Promise<WriteResult<undefined>> {
    try {
      await this.ctx.client.call((sdk) =>
        sdk.deleteRow({
          tableName: this.tableName,
          primaryKey: this.pk(id),
          condition: new Condition(
            RowExistenceExpectation.EXPECT_EXIST,
            expectedVersion === undefined
              ? null
              : new SingleColumnCondition(
                  'version',
                  Long.fromNumber(expectedVersion),
                  ComparatorType.EQUAL,
                  false,
                ),
          ),
        }),
      );
      return { ok: true, value: undefined };
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      const current = await this.get(id);
      if (current === undefined)
        return err.ambiguous ? { ok: true, value: undefined } : { ok: false, reason: 'not_found' };
      return { ok: false, reason: 'conflict' };
    }
  }

  async createMany(items: T[]): Promise<WriteResult<T>[]> {
    const results: WriteResult<T>[] = new Array<WriteResult<T>>(items.length);
    const firstAt = new Map<string, number>();
    const rows: { n: number; key: string; stored: T; ambiguous: boolean; exists: boolean }[] = [];
    items.forEach((item, n) => {
      const key = this.keyOf(item);
      if (firstAt.has(key)) return;
      firstAt.set(key, n);
      rows.push({ n, key, stored: { ...item, version: 1 }, ambiguous: false, exists: false });
    });
    for (let i = 0; i < rows.length; i += BATCH_WRITE_ROWS) {
      await this.ctx.client.retryRows(rows.slice(i, i + BATCH_WRITE_ROWS), async (chunk) => {
        const { value: res, ambiguous } = await this.ctx.client.call((sdk) =>
          sdk.batchWriteRow({
            tables: [
              {
                tableName: this.tableName,
                rows: chunk.map((r) => ({
                  type: 'PUT' as const,
                  condition: new Condition(RowExistenceExpectation.EXPECT_NOT_EXIST, null),
                  primaryKey: this.pk(r.key),
                  attributeColumns: this.attributes(r.stored),
                })),
              },
            ],
          }),
        );
        return chunk.map((r, n) => {
          const out = res.tables[n];
          if (ambiguous) r.ambiguous = true;
          if (out?.isOk) {
            results[r.n] = { ok: true, value: r.stored };
            return { row: r, retry: false };
          }
          if (out?.errorCode === 'OTSConditionCheckFail') {
            r.exists = true;
            return { row: r, retry: false };
          }
          if (!isRetryableRowError(out?.errorCode)) {
            throw new TablestoreError(
              out?.errorMessage ?? 'batch write failed',
              out?.errorCode ?? 'Unknown',
              undefined,
              undefined,
            );
          }
          if (isInDoubtRowError(out?.errorCode)) r.ambiguous = true;
          return { row: r, retry: true };
        });
      });
    }
    const existing = rows.filter((r) => r.exists);
    const current = await this.fetch(existing.map((r) => r.key));
    for (const r of existing) {
      const cur = current.get(r.key);
      results[r.n] =
        r.ambiguous && this.same(cur, r.stored)
          ? { ok: true, value: r.stored }
          : cur === undefined
            ? { ok: false, reason: 'exists' }
            : { ok: false, reason: 'exists', current: cur };
    }
    items.forEach((item, n) => {
      const first = firstAt.get(this.keyOf(item));
      if (first === undefined || first === n) return;
      const won = results[first];
      const cur = won?.ok ? won.value : won?.current;
      results[n] =
        cur === undefined ? { ok: false, reason: 'exists' } : { ok: false, reason: 'exists', current: cur };
    });
    return results;
  }
}
