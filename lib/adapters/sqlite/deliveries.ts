import type { Delivery } from '../../domain/notifications.js';
import type { DeliveryCollection, Page, PageRequest } from '../../ports/store.js';
import { SqliteCollection, eq, where } from './collection.js';

export class SqliteDeliveries extends SqliteCollection<Delivery> implements DeliveryCollection {
  async list(subscriptionId: string, page?: PageRequest): Promise<Page<Delivery>> {
    const w = where();
    eq(w, 'subscriptionId', subscriptionId);
    return this.listWhere(w, 'createdAt', page);
  }
}
