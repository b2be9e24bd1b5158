/** Options several commands share: paging of lists, `--wait`, an idempotency key. */
import type { Command } from 'commander';
import type { Query } from '../client.js';
import { UsageError } from '../errors.js';

export interface ListOptions {
  limit?: string;
  cursor?: string;
  all?: boolean;
}

export function addListOptions(cmd: Command): Command {
  return cmd
    .option('--limit <n>', 'rows per page')
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--all', 'follow every page');
}

export function listQuery(o: ListOptions, filters: Query = {}): Query {
  return { ...filters, limit: o.limit, cursor: o.cursor };
}

export function addWait(cmd: Command): Command {
  return cmd.option('-w, --wait', 'follow the job until it ends (exit 1 if FAILED, CANCELED or SKIPPED)');
}

export function positiveInt(option: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new UsageError(`${option}: "${raw}" is not a whole number`);
  return n;
}

export const enc = encodeURIComponent;
