export {
  openSqliteStore,
  migrate,
  type SqliteStore,
  type SqliteStoreOptions,
  type BulkCreate,
} from './store.js';
export { MIGRATIONS, type Migration } from './migrations.js';
