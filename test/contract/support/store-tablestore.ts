import {
  startTablestoreEmulator,
  type TablestoreEmulator,
} from '../../../local/tablestore-emulator/index.js';
import {
  TablestoreClient,
  createTablestoreStore,
  provisionTables,
  type TablestoreStoreOptions,
} from '../../../lib/adapters/tablestore/index.js';
import type { StoreHarness } from './store-fixtures.js';

export const EMULATOR_KEY = { accessKeyId: 'test-key-id', accessKeySecret: 'test-key-secret' };

export async function startEmulator(extra: { securityToken?: string } = {}): Promise<TablestoreEmulator> {
  return startTablestoreEmulator({ instanceName: 'ecsb-test', ...EMULATOR_KEY, ...extra });
}

export function connection(emulator: TablestoreEmulator): TablestoreStoreOptions {
  return { endpoint: emulator.endpoint, instanceName: emulator.instanceName, ...EMULATOR_KEY };
}

let counter = 0;

/** A fresh set of tables (own prefix) in a shared emulator, through the real SDK. */
export async function tablestoreHarness(
  emulator: TablestoreEmulator,
  extra: Partial<TablestoreStoreOptions> = {},
): Promise<StoreHarness & { prefix: string }> {
  counter += 1;
  const prefix = `t${counter}_`;
  const opts: TablestoreStoreOptions = { ...connection(emulator), tablePrefix: prefix, ...extra };
  const client = new TablestoreClient(opts);
  await provisionTables(client, { prefix, dryRun: false });
  let store = createTablestoreStore(opts);
  return {
    prefix,
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = createTablestoreStore(opts);
      return store;
    },
    async cleanup() {
      await store.close();
      const { tableNames } = await client.read((sdk) => sdk.listTable({}));
      for (const name of tableNames.filter((n) => n.startsWith(prefix))) {
        await client.read((sdk) => sdk.deleteTable({ tableName: name }));
      }
    },
  };
}
