import type { Plan } from '../../domain/model.js';
import type { Page, PageRequest, PlanCollection, PlanFilter } from '../../ports/store.js';
import { MAX_HOT_LIMIT, clampLimit } from '../store-paging.js';
import { SqliteCollection, eq, where } from './collection.js';

/** The scheduler's hot query, exported so a test can check with EXPLAIN QUERY PLAN that it uses its index. */
export const DUE_SQL = `SELECT doc FROM plans WHERE state = 'ACTIVE' AND nextRunAt <= ? ORDER BY nextRunAt ASC, id ASC LIMIT ?`;

export class SqlitePlans extends SqliteCollection<Plan> implements PlanCollection {
  async list(filter: PlanFilter, page?: PageRequest): Promise<Page<Plan>> {
    const w = where();
    eq(w, 'instanceId', filter.instanceId);
    eq(w, 'state', filter.state);
    return this.listWhere(w, 'createdAt', page);
  }

  async dueBefore(before: number, limit: number): Promise<Plan[]> {
    return this.sql.items<Plan>(DUE_SQL, [before, clampLimit(limit, MAX_HOT_LIMIT)]);
  }
}
