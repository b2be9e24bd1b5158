import type { Instance, Table } from './engine.js';
import { invalid } from './errors.js';
import type { ColumnType, PkType, TableSchema } from './rows.js';
import {
  DefinedColumnType,
  PrimaryKeyType,
  decodeMessage,
  encodeMessage,
  type PbIndexMeta,
  type PbTableMeta,
} from './protocol.js';

/** Table operations: create, describe and update a table and its indexes. */

function pkTypeName(n: number): PkType {
  if (n === PrimaryKeyType.INTEGER) return 'INTEGER';
  if (n === PrimaryKeyType.STRING) return 'STRING';
  if (n === PrimaryKeyType.BINARY) return 'BINARY';
  throw invalid(`unknown primary key type ${n}`);
}

function columnTypeName(n: number): ColumnType {
  const name = (Object.keys(DefinedColumnType) as (keyof typeof DefinedColumnType)[]).find(
    (k) => DefinedColumnType[k] === n,
  );
  if (name === undefined) throw invalid(`unknown defined column type ${n}`);
  return name;
}

export function indexFromPb(meta: PbIndexMeta): {
  name: string;
  primaryKey: string[];
  definedColumn: string[];
} {
  if (meta.indexType !== 0) throw invalid('only global secondary indexes are emulated');
  return { name: meta.name, primaryKey: [...meta.primaryKey], definedColumn: [...meta.definedColumn] };
}

export function createTable(instance: Instance, body: Buffer): Buffer {
  const req = decodeMessage<{
    tableMeta: PbTableMeta;
    tableOptions?: { timeToLive?: number; maxVersions?: number };
    indexMetas: PbIndexMeta[];
  }>('CreateTableRequest', body);
  for (const pk of req.tableMeta.primaryKey) {
    // protobufjs fills an absent enum with its first value, so presence must be checked, not the value.
    if (Object.prototype.hasOwnProperty.call(pk, 'option')) {
      throw invalid('auto-increment primary keys are not emulated');
    }
  }
  const schema: TableSchema = {
    name: req.tableMeta.tableName,
    primaryKey: req.tableMeta.primaryKey.map((p) => ({ name: p.name, type: pkTypeName(p.type) })),
    definedColumn: req.tableMeta.definedColumn.map((d) => ({ name: d.name, type: columnTypeName(d.type) })),
    timeToLive: req.tableOptions?.timeToLive || -1,
    maxVersions: req.tableOptions?.maxVersions || 1,
  };
  instance.createTable(schema, req.indexMetas.map(indexFromPb));
  return encodeMessage('CreateTableResponse', {});
}

function tableOptionsOf(t: Table): Record<string, unknown> {
  return {
    timeToLive: t.schema.timeToLive,
    maxVersions: t.schema.maxVersions,
    deviationCellVersionInSec: 86_400,
    allowUpdate: true,
  };
}

export function describeTable(instance: Instance, body: Buffer): Buffer {
  const req = decodeMessage<{ tableName: string }>('DescribeTableRequest', body);
  const t = instance.table(req.tableName);
  const pkTypes: Record<PkType, number> = PrimaryKeyType;
  return encodeMessage('DescribeTableResponse', {
    tableMeta: {
      tableName: t.schema.name,
      primaryKey: t.schema.primaryKey.map((p) => ({ name: p.name, type: pkTypes[p.type] })),
      definedColumn: t.schema.definedColumn.map((d) => ({ name: d.name, type: DefinedColumnType[d.type] })),
    },
    reservedThroughputDetails: { capacityUnit: { read: 0, write: 0 }, lastIncreaseTime: 0 },
    tableOptions: tableOptionsOf(t),
    tableStatus: 1,
    indexMetas: [...t.indexes.values()].map(({ schema }) => ({
      name: schema.name,
      primaryKey: schema.fullKey,
      definedColumn: schema.definedColumn,
      indexUpdateMode: 0,
      indexType: 0,
      indexSyncPhase: 2,
    })),
  });
}

export function updateTable(instance: Instance, body: Buffer): Buffer {
  const req = decodeMessage<{
    tableName: string;
    tableOptions?: { timeToLive?: number; maxVersions?: number };
  }>('UpdateTableRequest', body);
  const t = instance.table(req.tableName);
  const ttl = req.tableOptions?.timeToLive;
  if (ttl !== undefined && ttl !== 0) {
    if (ttl !== -1 && ttl < 86_400) throw invalid('time_to_live must be -1 or at least 86400 seconds');
    t.schema = { ...t.schema, timeToLive: ttl };
  }
  const versions = req.tableOptions?.maxVersions;
  if (versions !== undefined && versions !== 0) t.schema = { ...t.schema, maxVersions: versions };
  return encodeMessage('UpdateTableResponse', {
    reservedThroughputDetails: { capacityUnit: { read: 0, write: 0 }, lastIncreaseTime: 0 },
    tableOptions: tableOptionsOf(t),
  });
}
