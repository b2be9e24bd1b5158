import type { Subscription } from '../../domain/notifications.js';
import type { Page, PageRequest, SubscriptionCollection } from '../../ports/store.js';
import { SqliteCollection, where } from './collection.js';

export class SqliteSubscriptions extends SqliteCollection<Subscription> implements SubscriptionCollection {
  async list(page?: PageRequest): Promise<Page<Subscription>> {
    return this.listWhere(where(), 'createdAt', page);
  }
}
