import { conditionFailed, invalid } from './errors.js';
import { compareValues, type StoredAttr, type StoredRow } from './rows.js';
import { decodeVariant } from './plainbuffer.js';
import {
  Comparator,
  FilterType,
  LogicalOp,
  RowExistence,
  decodeMessage,
  type PbCompositeFilter,
  type PbCondition,
  type PbFilter,
  type PbSingleFilter,
} from './protocol.js';

/** Tablestore allows at most this many column conditions in one condition or filter. */
const MAX_CONDITIONS = 10;

/** Throws OTSConditionCheckFail unless the row's existence and the column condition hold. */
export function checkCondition(
  condition: PbCondition | undefined | null,
  current: StoredRow | undefined,
): void {
  const existence = condition?.rowExistence ?? RowExistence.IGNORE;
  if (existence === RowExistence.EXPECT_EXIST && current === undefined) throw conditionFailed();
  if (existence === RowExistence.EXPECT_NOT_EXIST && current !== undefined) throw conditionFailed();
  const bytes = condition?.columnCondition;
  if (bytes !== undefined && bytes !== null && bytes.length > 0) {
    if (!matchesFilter(bytes, current?.attrs ?? new Map())) throw conditionFailed();
  }
}

export function matchesFilter(bytes: Uint8Array, attrs: Map<string, StoredAttr>): boolean {
  const filter = decodeMessage<PbFilter>('filter.proto.Filter', bytes);
  const counter = { n: 0 };
  return evaluate(filter, attrs, counter);
}

function evaluate(filter: PbFilter, attrs: Map<string, StoredAttr>, counter: { n: number }): boolean {
  if (filter.type === FilterType.SINGLE) {
    counter.n += 1;
    if (counter.n > MAX_CONDITIONS) throw invalid(`more than ${MAX_CONDITIONS} column conditions`);
    const f = decodeMessage<PbSingleFilter>('filter.proto.SingleColumnValueFilter', filter.filter);
    const stored = attrs.get(f.columnName);
    if (stored === undefined) return !f.filterIfMissing;
    const want = decodeVariant(Buffer.from(f.columnValue));
    if (want.type !== stored.value.type) return f.comparator === Comparator.NE;
    const c = compareValues(stored.value, want);
    switch (f.comparator) {
      case Comparator.EQ:
        return c === 0;
      case Comparator.NE:
        return c !== 0;
      case Comparator.GT:
        return c > 0;
      case Comparator.GE:
        return c >= 0;
      case Comparator.LT:
        return c < 0;
      case Comparator.LE:
        return c <= 0;
      default:
        throw invalid(`unknown comparator ${f.comparator}`);
    }
  }
  if (filter.type === FilterType.COMPOSITE) {
    const f = decodeMessage<PbCompositeFilter>('filter.proto.CompositeColumnValueFilter', filter.filter);
    const subs = f.subFilters;
    switch (f.combinator) {
      case LogicalOp.NOT: {
        const only = subs[0];
        if (subs.length !== 1 || only === undefined) throw invalid('NOT takes exactly one condition');
        return !evaluate(only, attrs, counter);
      }
      case LogicalOp.AND:
        if (subs.length < 2) throw invalid('AND takes at least two conditions');
        return subs.map((s) => evaluate(s, attrs, counter)).every(Boolean);
      case LogicalOp.OR:
        if (subs.length < 2) throw invalid('OR takes at least two conditions');
        return subs.map((s) => evaluate(s, attrs, counter)).some(Boolean);
      default:
        throw invalid(`unknown logical operator ${f.combinator}`);
    }
  }
  throw invalid(`filter type ${filter.type} is not supported here`);
}
