import type { Job } from '../../domain/model.js';
import type { JobCollection, JobFilter, Page, PageRequest } from '../../ports/store.js';
import { EMPTY, SqliteCollection, eq, oneOf, range, where } from './collection.js';

export class SqliteJobs extends SqliteCollection<Job> implements JobCollection {
  async list(filter: JobFilter, page?: PageRequest): Promise<Page<Job>> {
    const w = where();
    eq(w, 'type', filter.type);
    if (!oneOf(w, 'status', filter.status)) return EMPTY;
    eq(w, 'instanceId', filter.instanceId);
    eq(w, 'planId', filter.planId);
    range(w, 'createdAt', filter.from, filter.to);
    return this.listWhere(w, 'createdAt', page);
  }
}
