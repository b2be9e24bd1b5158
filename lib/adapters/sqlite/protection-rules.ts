import type { ProtectionRule } from '../../domain/protection-rule.js';
import type { Page, PageRequest, ProtectionRuleCollection } from '../../ports/store.js';
import { SqliteCollection, where } from './collection.js';

export class SqliteProtectionRules
  extends SqliteCollection<ProtectionRule>
  implements ProtectionRuleCollection
{
  async list(page?: PageRequest): Promise<Page<ProtectionRule>> {
    return this.listWhere(where(), 'createdAt', page);
  }
}
