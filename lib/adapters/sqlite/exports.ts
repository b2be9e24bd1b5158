import type { ExportRecord } from '../../domain/model.js';
import type { ExportCollection, ExportFilter, Page, PageRequest } from '../../ports/store.js';
import { SqliteCollection, eq, where } from './collection.js';

export class SqliteExports extends SqliteCollection<ExportRecord> implements ExportCollection {
  async list(filter: ExportFilter, page?: PageRequest): Promise<Page<ExportRecord>> {
    const w = where();
    eq(w, 'backupId', filter.backupId);
    eq(w, 'instanceId', filter.instanceId);
    return this.listWhere(w, 'createdAt', page);
  }
}
