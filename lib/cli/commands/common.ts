/** Options several commands share: paging of lists, `--wait`, an idempotency key. */
import type { Command } from 'commander';
import type { Query } from '../client.js';
import type { Context } from '../context.js';
import type { Column } from '../output.js';
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

/** One page of a list route (every page with `--all`), printed as the output format asks. */
export async function printList<T>(
  ctx: Context,
  path: string,
  o: ListOptions,
  filters: Query,
  columns: Column<T>[],
  empty: string,
): Promise<void> {
  ctx.out.list(await ctx.client.list<T>(path, listQuery(o, filters), o.all === true), columns, empty);
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

/** Commander's accumulator for a repeatable option. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
