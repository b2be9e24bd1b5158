export {
  createTablestoreStore,
  type BulkCreate,
  type TablestoreStore,
  type TablestoreStoreOptions,
} from './store.js';
export {
  ConditionFailed,
  TablestoreClient,
  TablestoreError,
  isConditionFailed,
  translateError,
  type RetryOptions,
  type TablestoreConnection,
  type TablestoreCredentials,
} from './client.js';
export {
  createTableParams,
  describeTablePlan,
  provisionTables,
  type ProvisionTablesOptions,
} from './schema.js';
