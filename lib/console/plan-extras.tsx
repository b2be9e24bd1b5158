import type { PlanFields, Span } from './types.js';
import { described, Field } from './ui.js';

type RetUnit = 'days' | 'weeks' | 'months' | 'years';

/** The API takes at most three copy regions (domain/plan.ts). */
const MAX_COPIES = 3;

export interface PlanExtrasValue {
  copies: { regionId: string; retention: Span<RetUnit> }[];
  lock: '' | 'compliance' | 'governance';
  /** Restore-test every Nth backup; null = never. */
  verifyEvery: number | null;
}

export function initialExtras(plan?: PlanFields): PlanExtrasValue {
  return {
    copies: plan?.copies ?? [],
    lock: plan?.lock?.mode ?? '',
    verifyEvery: plan?.verify?.every ?? null,
  };
}

/** Copies, lock and verify as the API takes them; a change sends null to turn one off. */
export function extrasBody(v: PlanExtrasValue, forPatch: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (v.copies.length > 0) out.copies = v.copies;
  else if (forPatch) out.copies = null;
  if (v.lock !== '') out.lock = { mode: v.lock };
  else if (forPatch) out.lock = null;
  if (v.verifyEvery !== null) out.verify = { every: v.verifyEvery };
  else if (forPatch) out.verify = null;
  return out;
}

/** Copies to other regions, the backup lock and restore tests: the plan form's last part. */
export function PlanExtras({
  value,
  onChange,
  err,
  id,
}: {
  value: PlanExtrasValue;
  onChange(patch: Partial<PlanExtrasValue>): void;
  err(path: string): string | undefined;
  id(s: string): string;
}) {
  const str = (e: Event) => (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;
  const setCopy = (i: number, patch: Partial<PlanExtrasValue['copies'][number]>) =>
    onChange({ copies: value.copies.map((c, j) => (j === i ? { ...c, ...patch } : c)) });
  return (
    <>
      <fieldset>
        <legend>Copies to other regions</legend>
        {value.copies.map((c, i) => (
          <div class="inline" key={i}>
            <Field id={id(`copy-${i}-region`)} label={`Region ${i + 1}`} error={err(`copies[${i}].regionId`)}>
              <input
                {...described(id(`copy-${i}-region`), err(`copies[${i}].regionId`))}
                value={c.regionId}
                placeholder="cn-shanghai"
                onInput={(e) => setCopy(i, { regionId: str(e) })}
              />
            </Field>
            <Field
              id={id(`copy-${i}-keep`)}
              label={`Keep the copy in region ${i + 1} for`}
              error={err(`copies[${i}].retention.value`)}
            >
              <input
                type="number"
                min={1}
                {...described(id(`copy-${i}-keep`), err(`copies[${i}].retention.value`))}
                value={c.retention.value}
                onInput={(e) => setCopy(i, { retention: { ...c.retention, value: Number(str(e)) } })}
              />
            </Field>
            <Field id={id(`copy-${i}-unit`)} label="Unit">
              <select
                id={id(`copy-${i}-unit`)}
                value={c.retention.unit}
                onChange={(e) => setCopy(i, { retention: { ...c.retention, unit: str(e) as RetUnit } })}
              >
                {['days', 'weeks', 'months', 'years'].map((u) => (
                  <option key={u} value={u}>
                    {u}
                  </option>
                ))}
              </select>
            </Field>
            <button
              type="button"
              onClick={() => onChange({ copies: value.copies.filter((_, j) => j !== i) })}
            >
              Remove region {i + 1}
            </button>
          </div>
        ))}
        {err('copies') ? (
          <p class="field-error" role="alert">
            {err('copies')}
          </p>
        ) : null}
        <button
          type="button"
          disabled={value.copies.length >= MAX_COPIES}
          onClick={() =>
            onChange({ copies: [...value.copies, { regionId: '', retention: { value: 30, unit: 'days' } }] })
          }
        >
          Add a copy region
        </button>
      </fieldset>
      <fieldset>
        <legend>Lock and verification</legend>
        <Field
          id={id('lock')}
          label="Lock each backup until it expires"
          error={err('lock.mode') ?? err('lock')}
        >
          <select
            {...described(id('lock'), err('lock.mode') ?? err('lock'))}
            value={value.lock}
            onChange={(e) => onChange({ lock: str(e) as PlanExtrasValue['lock'] })}
          >
            <option value="">No lock</option>
            <option value="governance">Governance (the break-glass token can delete)</option>
            <option value="compliance">Compliance (no one can delete)</option>
          </select>
        </Field>
        <Field
          id={id('verify')}
          label="Restore-test one backup in N (empty: never)"
          error={err('verify.every') ?? err('verify')}
        >
          <input
            type="number"
            min={1}
            {...described(id('verify'), err('verify.every') ?? err('verify'))}
            value={value.verifyEvery ?? ''}
            onInput={(e) => onChange({ verifyEvery: str(e) === '' ? null : Number(str(e)) })}
          />
        </Field>
      </fieldset>
    </>
  );
}
