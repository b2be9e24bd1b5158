export {
  startTablestoreEmulator,
  type InjectedFault,
  type TablestoreEmulator,
  type TablestoreEmulatorOptions,
} from './server.js';
