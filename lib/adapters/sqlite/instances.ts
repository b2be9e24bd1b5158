import type { ProtectedInstance } from '../../domain/model.js';
import type { Page, PageRequest, ProtectedInstanceCollection } from '../../ports/store.js';
import { eq, SqliteCollection, where } from './collection.js';

export class SqliteInstances
  extends SqliteCollection<ProtectedInstance>
  implements ProtectedInstanceCollection
{
  async list(page?: PageRequest): Promise<Page<ProtectedInstance>> {
    return this.listWhere(where(), 'createdAt', page);
  }

  async listByRule(ruleId: string, page?: PageRequest): Promise<Page<ProtectedInstance>> {
    const w = where();
    eq(w, 'ruleId', ruleId);
    return this.listWhere(w, 'createdAt', page);
  }
}
