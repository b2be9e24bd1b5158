import type TableStore from 'tablestore';
import { columnValues, physicalTableName, type TableDef } from '../../schema/tables.js';
import { TablestoreError, isRetryableRowError, type TablestoreClient } from './client.js';
import { BATCH_GET_ROWS, Long, cell, plain, type PkInput, type Versioned } from './codec.js';

/** Where a collection's tables live. */
export interface Ctx {
  client: TablestoreClient;
  prefix: string;
}

/** One table of versioned JSON documents: keys, the row codec, and reads by id (batched within the limits). */
export class TablestoreTable<T extends Versioned> {
  readonly tableName: string;

  constructor(
    protected readonly ctx: Ctx,
    protected readonly def: TableDef<T>,
  ) {
    this.tableName = physicalTableName(def, ctx.prefix);
  }

  protected keyOf(item: T): string {
    const key = (item as Record<string, unknown>)[this.def.primaryKey];
    if (typeof key !== 'string' || key === '') {
      throw new TypeError(`${this.def.name}: ${this.def.primaryKey} must be a non-empty string`);
    }
    return key;
  }

  protected pk(id: string): PkInput {
    return [{ [this.def.primaryKey]: id }];
  }

  protected attributes(stored: T): TableStore.AttributesInput {
    const cols: TableStore.AttributesInput = [
      { doc: JSON.stringify(stored) },
      { version: Long.fromNumber(stored.version) },
    ];
    for (const [name, value] of Object.entries(columnValues(this.def, stored))) {
      // Absent, not null: a missing column keeps the row out of the sparse global index.
      if (value !== null) cols.push({ [name]: cell(value) });
    }
    return cols;
  }

  protected parse(row: { attributes?: TableStore.AttributesOutput | null } | undefined): T | undefined {
    const attrs = row?.attributes;
    if (!attrs || attrs.length === 0) return undefined;
    let doc: string | undefined;
    let version: number | undefined;
    for (const a of attrs) {
      if (a.columnName === 'doc' && typeof a.columnValue === 'string') doc = a.columnValue;
      if (a.columnName === 'version') version = plain(a.columnValue) as number | undefined;
    }
    if (doc === undefined || version === undefined) return undefined;
    const item = JSON.parse(doc) as T;
    item.version = version;
    return item;
  }

  async get(id: string): Promise<T | undefined> {
    const res = await this.ctx.client.read((sdk) =>
      sdk.getRow({ tableName: this.tableName, primaryKey: this.pk(id), columnsToGet: ['doc', 'version'] }),
    );
    return this.parse(res.row);
  }

  async getMany(ids: string[]): Promise<T[]> {
    const unique = [...new Set(ids)];
    const found = await this.fetch(unique);
    return unique.flatMap((id) => {
      const item = found.get(id);
      return item === undefined ? [] : [item];
    });
  }

  /** Which of the ids have a row: the batch read asks for the version column only, no document. */
  async existing(ids: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    await this.batchRead([...new Set(ids)], ['version'], (id, row) => {
      if ((row.attributes?.length ?? 0) > 0) out.add(id);
    });
    return out;
  }

  protected async fetch(ids: string[]): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    await this.batchRead(ids, ['doc', 'version'], (id, row) => {
      const item = this.parse(row);
      if (item !== undefined) out.set(id, item);
    });
    return out;
  }

  /** BatchGetRow in chunks of 100; rows failing with a retryable code are asked again. */
  private async batchRead(
    ids: string[],
    columnsToGet: string[],
    onRow: (id: string, row: { attributes?: TableStore.AttributesOutput | null }) => void,
  ): Promise<void> {
    for (let i = 0; i < ids.length; i += BATCH_GET_ROWS) {
      await this.ctx.client.retryRows(ids.slice(i, i + BATCH_GET_ROWS), async (chunk) => {
        const res = await this.ctx.client.read((sdk) =>
          sdk.batchGetRow({
            tables: [{ tableName: this.tableName, primaryKey: chunk.map((id) => this.pk(id)), columnsToGet }],
          }),
        );
        const rows = res.tables[0] ?? [];
        return chunk.map((id, n) => {
          const r = rows[n];
          if (r === undefined || !r.isOk) {
            if (!isRetryableRowError(r?.errorCode)) {
              throw new TablestoreError(
                r?.errorMessage ?? 'batch read failed',
                r?.errorCode ?? 'Unknown',
                undefined,
                undefined,
              );
            }
            return { row: id, retry: true };
          }
          onRow(id, r);
          return { row: id, retry: false };
        });
      });
    }
  }
}
