import type { CopyExpiry } from '../../domain/copies.js';
import type { CopyExpiryCollection, Page } from '../../ports/store.js';
import type { IndexDef } from '../../schema/tables.js';
import { MAX_HOT_LIMIT, clampLimit, decodeCursor } from '../store-paging.js';
import { TablestoreCollection } from './collection.js';

/** Copy retention's rows: one per copy present, found by expiry through `copy_expiries_due`. */
export class TablestoreCopyExpiries extends TablestoreCollection<CopyExpiry> implements CopyExpiryCollection {
  async due(now: number, limit: number, cursor?: string): Promise<Page<CopyExpiry>> {
    const n = clampLimit(limit, MAX_HOT_LIMIT);
    const index = this.def.indexes.find((i) => i.name === 'copy_expiries_due') as IndexDef;
    const res = await this.query(
      { index, prefixes: [[]], to: now + 1, desc: false, after: decodeCursor(cursor) },
      n,
      (c) => c.expireAt <= now,
    );
    return res.cursor === undefined ? { items: res.items } : { items: res.items, cursor: res.cursor };
  }
}
