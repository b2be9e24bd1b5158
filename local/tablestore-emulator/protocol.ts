import { createRequire } from 'node:module';

/**
 * The protobuf messages of the Tablestore API, loaded from the `.proto` files that ship in the SDK
 * package, with the SDK's own protobufjs. Field names are camelCase (protobufjs' default).
 */

interface ProtoType {
  decode(buf: Uint8Array): unknown;
  encode(msg: unknown): { finish(): Uint8Array };
  fromObject(obj: Record<string, unknown>): unknown;
}

interface ProtoRoot {
  loadSync(files: string[], opts?: Record<string, unknown>): ProtoRoot;
  lookupType(name: string): ProtoType;
}

const requireHere = createRequire(import.meta.url);
const sdkRequire = createRequire(requireHere.resolve('tablestore'));
const protobuf = sdkRequire('protobufjs') as { Root: new () => ProtoRoot };

const root = new protobuf.Root().loadSync([
  sdkRequire.resolve('./lib/protocol/tablestore.proto'),
  sdkRequire.resolve('./lib/protocol/tablestore_filter.proto'),
]);

const cache = new Map<string, ProtoType>();

export function messageType(name: string): ProtoType {
  let t = cache.get(name);
  if (t === undefined) {
    t = root.lookupType(name.includes('.') ? name : `main.proto.${name}`);
    cache.set(name, t);
  }
  return t;
}

export function decodeMessage<T>(name: string, body: Uint8Array): T {
  return messageType(name).decode(body) as T;
}

export function encodeMessage(name: string, obj: Record<string, unknown>): Buffer {
  const t = messageType(name);
  return Buffer.from(t.encode(t.fromObject(obj)).finish());
}

/** Numeric enum values of the API, as the .proto files define them. */
export const RowExistence = { IGNORE: 0, EXPECT_EXIST: 1, EXPECT_NOT_EXIST: 2 } as const;
export const Direction = { FORWARD: 0, BACKWARD: 1 } as const;
export const OperationType = { PUT: 1, UPDATE: 2, DELETE: 3 } as const;
export const FilterType = { SINGLE: 1, COMPOSITE: 2, PAGINATION: 3 } as const;
export const Comparator = { EQ: 1, NE: 2, GT: 3, GE: 4, LT: 5, LE: 6 } as const;
export const LogicalOp = { NOT: 1, AND: 2, OR: 3 } as const;
export const PrimaryKeyType = { INTEGER: 1, STRING: 2, BINARY: 3 } as const;
export const DefinedColumnType = { INTEGER: 1, DOUBLE: 2, BOOLEAN: 3, STRING: 4, BLOB: 7 } as const;
export const ReturnType = { NONE: 0, PK: 1, AFTER_MODIFY: 2 } as const;

/** Decoded message shapes (only the fields the emulator reads). */
export interface PbCondition {
  rowExistence: number;
  columnCondition?: Uint8Array;
}
export interface PbFilter {
  type: number;
  filter: Uint8Array;
}
export interface PbSingleFilter {
  comparator: number;
  columnName: string;
  columnValue: Uint8Array;
  filterIfMissing: boolean;
  latestVersionOnly: boolean;
}
export interface PbCompositeFilter {
  combinator: number;
  subFilters: PbFilter[];
}
export interface PbIndexMeta {
  name: string;
  primaryKey: string[];
  definedColumn: string[];
  indexUpdateMode: number;
  indexType: number;
}
export interface PbTableMeta {
  tableName: string;
  primaryKey: { name: string; type: number; option?: number }[];
  definedColumn: { name: string; type: number }[];
}
export interface PbReturnContent {
  returnType?: number;
}
