/**
 * Printing results: a table for people (the default on a terminal), JSON for scripts (the default
 * otherwise, and exactly the API's answer, so `jq` sees the documented shapes).
 */
import { UsageError } from './errors.js';

export type OutputFormat = 'table' | 'json';

export interface Column<T> {
  header: string;
  value: (item: T) => unknown;
}

export interface Printer {
  format: OutputFormat;
  /** A list: table rows, or `{items, nextCursor}` as JSON. */
  list<T>(page: { items: T[]; nextCursor: string | null }, columns: Column<T>[], empty: string): void;
  /** One object: `field  value` lines, or the object as JSON. */
  item<T extends object>(value: T, fields: Column<T>[]): void;
  /** A short confirmation for people; scripts get the answer as JSON. */
  done(message: string, value: unknown): void;
}

export function outputFormat(option: string | undefined, isTty: boolean): OutputFormat {
  if (option === undefined) return isTty ? 'table' : 'json';
  if (option === 'table' || option === 'json') return option;
  throw new UsageError(`--output: must be table or json, not "${option}"`);
}

export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length ? value.map(cell).join(',') : '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function createPrinter(format: OutputFormat, write: (text: string) => void): Printer {
  const json = (value: unknown) => write(`${JSON.stringify(value, null, 2)}\n`);
  return {
    format,
    list(page, columns, empty) {
      if (format === 'json') return json(page);
      if (page.items.length === 0) return write(`${empty}\n`);
      const rows = page.items.map((item) => columns.map((c) => cell(c.value(item))));
      write(
        `${renderTable(
          columns.map((c) => c.header),
          rows,
        )}\n`,
      );
      if (page.nextCursor) write(`(more: --cursor ${page.nextCursor}, or --all)\n`);
    },
    item(value, fields) {
      if (format === 'json') return json(value);
      const width = Math.max(...fields.map((f) => f.header.length));
      write(`${fields.map((f) => `${f.header.padEnd(width)}  ${cell(f.value(value))}`).join('\n')}\n`);
    },
    done(message, value) {
      if (format === 'json') return json(value);
      write(`${message}\n`);
    },
  };
}
