import TableStore from 'tablestore';
import {
  DEFAULT_TABLE_PREFIX,
  TABLE_LIST,
  indexKeyColumns,
  physicalIndexName,
  physicalTableName,
  type TableDef,
} from '../../schema/tables.js';
import type { TablestoreClient } from './client.js';

/** Tablestore tables and global secondary indexes, derived from infra/tables.ts. */

const DCT_INTEGER = 1;
const DCT_STRING = 4;

export function createTableParams(
  table: TableDef,
  prefix = DEFAULT_TABLE_PREFIX,
): TableStore.CreateTableParams {
  return {
    tableMeta: {
      tableName: physicalTableName(table, prefix),
      primaryKey: [{ name: table.primaryKey, type: 'STRING' }],
      // Only indexed columns must be declared; `doc` stays a free attribute column.
      definedColumn: [
        { name: 'version', type: DCT_INTEGER },
        ...Object.entries(table.columns).map(([name, def]) => ({
          name,
          type: def.type === 'integer' ? DCT_INTEGER : DCT_STRING,
        })),
      ] as unknown as TableStore.TableMeta['definedColumn'],
    },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    // Tables with global indexes must keep a single version and no TTL.
    tableOptions: { timeToLive: table.ttl?.seconds ?? -1, maxVersions: 1 },
    indexMetas: table.indexes.map((ix) => ({
      name: physicalIndexName(ix, prefix),
      primaryKey: indexKeyColumns(table, ix),
      definedColumn: [],
      indexUpdateMode: TableStore.IndexUpdateMode.IUM_ASYNC_INDEX,
      indexType: TableStore.IndexType.IT_GLOBAL_INDEX,
    })),
  };
}

export interface ProvisionTablesOptions {
  prefix?: string;
  dryRun: boolean;
}

/** Lines describing what creating every table would do, without calling anything. */
export function describeTablePlan(prefix = DEFAULT_TABLE_PREFIX): string[] {
  const lines: string[] = [];
  for (const t of TABLE_LIST) {
    const p = createTableParams(t, prefix);
    const ttl = t.ttl ? `, TTL ${t.ttl.seconds} s` : '';
    const cols = Object.entries(t.columns).map(
      ([c, d]) => `${c} ${d.type === 'integer' ? 'INTEGER' : 'STRING'}`,
    );
    lines.push(
      `would create Tablestore table ${p.tableMeta.tableName} if missing (pk ${t.primaryKey} STRING; columns version INTEGER, ${cols.join(', ')}${ttl})`,
    );
    for (const ix of p.indexMetas ?? []) {
      lines.push(
        `would create global index ${ix.name} on ${p.tableMeta.tableName} if missing (${ix.primaryKey.join(', ')})`,
      );
    }
  }
  return lines;
}

/**
 * Creates missing tables and missing indexes; leaves existing ones as they are. Returns what it did,
 * one line per action. An index whose key differs from the definition is reported, never dropped:
 * dropping an index is a decision for a person.
 */
export async function provisionTables(
  client: TablestoreClient,
  opts: ProvisionTablesOptions,
): Promise<string[]> {
  const prefix = opts.prefix ?? DEFAULT_TABLE_PREFIX;
  if (opts.dryRun) return describeTablePlan(prefix);
  const lines: string[] = [];
  const existing = new Set((await client.read((sdk) => sdk.listTable({}))).tableNames);
  for (const t of TABLE_LIST) {
    const params = createTableParams(t, prefix);
    const name = params.tableMeta.tableName;
    if (!existing.has(name)) {
      await client.read((sdk) => sdk.createTable(params));
      lines.push(`created Tablestore table ${name} with ${params.indexMetas?.length ?? 0} global indexes`);
      continue;
    }
    const described = (await client.read((sdk) => sdk.describeTable({ tableName: name }))) as unknown as {
      indexMetas?: { name: string; primaryKey: string[] }[];
    };
    const have = new Map((described.indexMetas ?? []).map((ix) => [ix.name, ix.primaryKey]));
    lines.push(`Tablestore table ${name} already exists`);
    for (const ix of params.indexMetas ?? []) {
      const key = have.get(ix.name);
      if (key === undefined) {
        // The SDK reads includeBaseData beside indexMeta, not inside it as its typings say.
        await client.read((sdk) =>
          sdk.createIndex({ mainTableName: name, indexMeta: ix, includeBaseData: true } as never),
        );
        lines.push(`created global index ${ix.name} on ${name} (${ix.primaryKey.join(', ')})`);
      } else if (key.join(',') !== ix.primaryKey.join(',')) {
        lines.push(
          `WARNING: global index ${ix.name} has key (${key.join(', ')}), infra/tables.ts says (${ix.primaryKey.join(', ')}); drop and provision again to change it`,
        );
      }
    }
  }
  return lines;
}
