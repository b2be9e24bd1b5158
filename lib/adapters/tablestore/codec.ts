import TableStore from 'tablestore';

/** Tablestore cell values, the service limits on batch and range calls, and the SDK condition types. */

export const BATCH_WRITE_ROWS = 200;
export const BATCH_GET_ROWS = 100;
export const RANGE_PAGE_MAX = 5000;

export type Versioned = { version: number };
export type Scalar = string | number;
export type PkInput = TableStore.PrimaryKeyInput;

export const { Condition, SingleColumnCondition, RowExistenceExpectation, ComparatorType, Long } = TableStore;

export function cell(value: Scalar): string | TableStore.int64 {
  return typeof value === 'number' ? Long.fromNumber(value) : value;
}

export function plain(value: unknown): Scalar | undefined {
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (value !== null && typeof value === 'object' && 'toNumber' in value) {
    return (value as { toNumber(): number }).toNumber();
  }
  return undefined;
}
