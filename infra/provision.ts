import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  TablestoreClient,
  createTablestoreStore,
  describeTablePlan,
  provisionTables,
} from '../lib/adapters/tablestore/index.js';
import { reindexCopiesAndLocks } from '../lib/usecases/copy/reindex.js';
import { provisionQueues as provisionMnsQueues } from './queues.js';
import { DEFAULT_TABLE_PREFIX } from '../lib/schema/tables.js';

/**
 * `npm run infra:provision [-- --dry-run] [--only tables|queues]`: creates the Store's Tablestore
 * tables and global indexes (infra/tables.ts) and the MNS queues with their dead-letter policy
 * (infra/queues.ts) in a real account. Safe to run again: existing tables and queues are kept.
 *
 * Settings come from the environment: TABLESTORE_ENDPOINT, TABLESTORE_INSTANCE, MNS_ENDPOINT,
 * ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN (optional).
 */

export interface ProvisionCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface ProvisionOptions {
  /** Print the plan and call nothing. */
  dryRun: boolean;
  only?: 'tables' | 'queues';
  tablestore?: { endpoint: string; instanceName: string; tablePrefix?: string };
  mns?: { endpoint: string };
  credentials?: ProvisionCredentials;
  /** The queue provisioner; replaceable so a test can run the table half alone. */
  provisionQueues?: typeof provisionMnsQueues;
}

/** Returns the lines of the plan (dry run) or of what was done, tables first. */
export async function provision(opts: ProvisionOptions): Promise<string[]> {
  const lines: string[] = [];
  const creds = opts.credentials;
  if (opts.only !== 'queues') {
    const ts = opts.tablestore;
    const prefix = ts?.tablePrefix ?? DEFAULT_TABLE_PREFIX;
    if (opts.dryRun) {
      const where = ts === undefined ? '' : ` in ${ts.instanceName} at ${ts.endpoint}`;
      lines.push(`Tablestore${where}:`);
      lines.push(...describeTablePlan(prefix));
    } else {
      if (ts === undefined || creds === undefined)
        throw new Error('Tablestore endpoint, instance and credentials are needed');
      const client = new TablestoreClient({ ...ts, ...creds });
      lines.push(`Tablestore ${ts.instanceName} at ${ts.endpoint}:`);
      lines.push(...(await provisionTables(client, { prefix, dryRun: false })));
      // Rows written before copy expiries and the locked expiry range existed (see the README).
      const store = createTablestoreStore({ ...ts, ...creds, tablePrefix: prefix });
      const r = await reindexCopiesAndLocks(store);
      lines.push(
        `reindexed ${r.points} backups: ${r.copiesIndexed} copy expiries, ${r.lockedRewritten} locked backups rewritten`,
      );
    }
  }
  if (opts.only !== 'tables') {
    const run = opts.provisionQueues ?? provisionMnsQueues;
    if (!opts.dryRun && (opts.mns === undefined || creds === undefined)) {
      throw new Error('MNS endpoint and credentials are needed');
    }
    lines.push(`MNS${opts.mns === undefined ? '' : ` at ${opts.mns.endpoint}`}:`);
    lines.push(
      ...(await run({
        endpoint: opts.mns?.endpoint ?? 'http://mns.invalid',
        accessKeyId: creds?.accessKeyId ?? '',
        accessKeySecret: creds?.accessKeySecret ?? '',
        ...(creds?.securityToken !== undefined ? { securityToken: creds.securityToken } : {}),
        dryRun: opts.dryRun,
      })),
    );
  }
  return lines;
}

/** Reads the command line and the environment; throws with every missing setting named. */
export function optionsFromEnvironment(
  argv: string[],
  env: Record<string, string | undefined>,
): ProvisionOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'dry-run': { type: 'boolean', default: false },
      only: { type: 'string' },
      prefix: { type: 'string' },
    },
    strict: true,
  });
  const only = values.only;
  if (only !== undefined && only !== 'tables' && only !== 'queues')
    throw new Error('--only takes tables or queues');
  const dryRun = values['dry-run'] === true;
  const needed: string[] = [];
  const need = (name: string, wanted: boolean): string | undefined => {
    const v = env[name];
    if ((v === undefined || v === '') && wanted && !dryRun) needed.push(name);
    return v === '' ? undefined : v;
  };
  const wantTables = only !== 'queues';
  const wantQueues = only !== 'tables';
  const endpoint = need('TABLESTORE_ENDPOINT', wantTables);
  const instanceName = need('TABLESTORE_INSTANCE', wantTables);
  const mnsEndpoint = need('MNS_ENDPOINT', wantQueues);
  const accessKeyId = need('ALIBABA_CLOUD_ACCESS_KEY_ID', true);
  const accessKeySecret = need('ALIBABA_CLOUD_ACCESS_KEY_SECRET', true);
  const securityToken = env.ALIBABA_CLOUD_SECURITY_TOKEN || undefined;
  if (needed.length > 0) throw new Error(`missing settings: ${needed.join(', ')}`);
  return {
    dryRun,
    ...(only !== undefined ? { only } : {}),
    ...(endpoint !== undefined && instanceName !== undefined
      ? {
          tablestore: {
            endpoint,
            instanceName,
            ...(values.prefix !== undefined ? { tablePrefix: values.prefix } : {}),
          },
        }
      : {}),
    ...(mnsEndpoint !== undefined ? { mns: { endpoint: mnsEndpoint } } : {}),
    ...(accessKeyId !== undefined && accessKeySecret !== undefined
      ? {
          credentials: {
            accessKeyId,
            accessKeySecret,
            ...(securityToken !== undefined ? { securityToken } : {}),
          },
        }
      : {}),
  };
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  try {
    const lines = await provision(optionsFromEnvironment(process.argv.slice(2), process.env));
    for (const line of lines) console.log(line);
  } catch (err) {
    console.error(`provision failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
