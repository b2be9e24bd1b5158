import { afterAll, beforeAll } from 'vitest';
import type { TablestoreEmulator } from '../../local/tablestore-emulator/index.js';
import { describeStoreContract } from './store.contract.js';
import { startEmulator, tablestoreHarness } from './support/store-tablestore.js';

let emulator: TablestoreEmulator;

beforeAll(async () => {
  emulator = await startEmulator();
});

afterAll(async () => {
  await emulator.close();
});

describeStoreContract('Tablestore (official SDK against the protocol emulator)', () =>
  tablestoreHarness(emulator),
);
