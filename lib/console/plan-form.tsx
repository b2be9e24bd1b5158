import { useState } from 'preact/hooks';
import type { PlanFields, Span } from './types.js';
import { described, Field, operatorZone } from './ui.js';
import { extrasBody, initialExtras, PlanExtras, type PlanExtrasValue } from './plan-extras.js';
import { isoToWallTime, wallTimeToIso } from './zoned.js';

type RetUnit = 'days' | 'weeks' | 'months' | 'years';
type Period = 'week' | 'month' | 'year';

export interface PlanFormValue extends PlanExtrasValue {
  name: string;
  onSchedule: boolean;
  startWall: string;
  timeZone: string;
  every: Span<'hours' | 'days' | 'weeks'>;
  retention: Span<RetUnit>;
  longTerm: Partial<Record<Period, Span<RetUnit>>>;
  applicationConsistent: boolean;
  fsFreeze: boolean;
  windowsWriters: boolean;
}

export function initialPlanForm(plan?: PlanFields): PlanFormValue {
  const timeZone = plan?.timeZone ?? operatorZone;
  const start = plan?.schedule?.startAt ?? new Date(Date.now() + 3_600_000).toISOString();
  const longTerm: PlanFormValue['longTerm'] = {};
  for (const r of plan?.longTerm ?? []) longTerm[r.period] = r.keep;
  return {
    name: plan?.name ?? '',
    onSchedule: plan ? (plan.schedule ?? null) !== null : true,
    startWall: isoToWallTime(start, timeZone),
    timeZone,
    every: plan?.schedule?.every ?? { value: 1, unit: 'days' },
    retention: plan?.retention ?? { value: 7, unit: 'days' },
    longTerm,
    applicationConsistent: plan?.consistency.applicationConsistent ?? false,
    fsFreeze: plan?.consistency.fsFreeze ?? true,
    windowsWriters: plan?.consistency.windowsWriters ?? true,
    ...initialExtras(plan),
  };
}

/** The plan as the API takes it (POST /protected-instances `plan`, PATCH /plans/{id}). */
export function planBody(v: PlanFormValue, forPatch = false): Record<string, unknown> {
  const schedule = v.onSchedule
    ? { startAt: wallTimeToIso(v.startWall, v.timeZone), every: v.every }
    : undefined;
  return {
    ...(v.name.trim() === '' ? {} : { name: v.name.trim() }),
    ...(schedule ? { schedule } : forPatch ? { schedule: null } : {}),
    retention: v.retention,
    longTerm: (Object.entries(v.longTerm) as [Period, Span<RetUnit>][]).map(([period, keep]) => ({
      period,
      keep,
    })),
    consistency: {
      applicationConsistent: v.applicationConsistent,
      fsFreeze: v.fsFreeze,
      windowsWriters: v.windowsWriters,
    },
    timeZone: v.timeZone,
    ...extrasBody(v, forPatch),
  };
}

const ZONES = [
  ...new Set([operatorZone, 'UTC', 'Asia/Shanghai', 'Asia/Singapore', 'Europe/London', 'America/New_York']),
];

/** What consistency the options will give, in words (design: application > file system > crash). */
export function consistencyExplained(v: PlanFormValue, os: 'linux' | 'windows' | null): string {
  if (!v.applicationConsistent) return 'Crash-consistent: the disks are captured as if the power were cut.';
  if (os === 'windows') {
    return v.windowsWriters
      ? 'Application-consistent through VSS, with the default writers (SQL Server and others) included.'
      : 'File-system-consistent through VSS, without application writers.';
  }
  return v.fsFreeze
    ? 'Application-consistent when /tmp/prescript.sh and /tmp/postscript.sh exist (owned by root, mode 0700) and succeed; file-system-consistent with the freeze alone; crash-consistent if Cloud Assistant is not running.'
    : 'Application-consistent only through your scripts, without a file-system freeze; otherwise crash-consistent.';
}

export function PlanForm({
  value,
  onChange,
  errors,
  os,
  placeholder,
  idPrefix = 'plan',
}: {
  value: PlanFormValue;
  onChange(v: PlanFormValue): void;
  errors: Record<string, string>;
  os: 'linux' | 'windows' | null;
  placeholder: string;
  idPrefix?: string;
}) {
  const set = (patch: Partial<PlanFormValue>) => onChange({ ...value, ...patch });
  const id = (s: string) => `${idPrefix}-${s}`;
  const err = (path: string) => errors[`plan.${path}`] ?? errors[path];
  const num = (e: Event) => Number((e.currentTarget as HTMLInputElement).value);
  const str = (e: Event) => (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;
  const [lt] = useState<Period[]>(['week', 'month', 'year']);
  return (
    <div class="plan-form">
      <Field id={id('name')} label="Plan name" error={err('name')}>
        <input
          {...described(id('name'), err('name'))}
          value={value.name}
          placeholder={placeholder}
          onInput={(e) => set({ name: str(e) })}
        />
      </Field>
      <div class="switch-row">
        <input
          type="checkbox"
          role="switch"
          id={id('on-schedule')}
          checked={value.onSchedule}
          onChange={(e) => set({ onSchedule: (e.currentTarget as HTMLInputElement).checked })}
        />
        <label for={id('on-schedule')}>On Schedule</label>
        <span class="hint">
          {value.onSchedule ? 'Backups run at the times below.' : 'Off: one backup runs now.'}
        </span>
      </div>
      {value.onSchedule ? (
        <fieldset>
          <legend>Schedule</legend>
          <Field id={id('start')} label="First run (to the second)" error={err('schedule.startAt')}>
            <input
              type="datetime-local"
              step={1}
              {...described(id('start'), err('schedule.startAt'))}
              value={value.startWall}
              onInput={(e) => set({ startWall: str(e) })}
            />
          </Field>
          <Field id={id('zone')} label="Time zone" error={err('timeZone')}>
            <select
              {...described(id('zone'), err('timeZone'))}
              value={value.timeZone}
              onChange={(e) => set({ timeZone: str(e) })}
            >
              {ZONES.map((z) => (
                <option key={z} value={z}>
                  {z}
                </option>
              ))}
            </select>
          </Field>
          <div class="inline">
            <Field id={id('every')} label="Every" error={err('schedule.every.value')}>
              <input
                type="number"
                min={1}
                {...described(id('every'), err('schedule.every.value'))}
                value={value.every.value}
                onInput={(e) => set({ every: { ...value.every, value: num(e) } })}
              />
            </Field>
            <Field id={id('every-unit')} label="Interval unit">
              <select
                id={id('every-unit')}
                value={value.every.unit}
                onChange={(e) => set({ every: { ...value.every, unit: str(e) as 'hours' } })}
              >
                <option value="hours">hours</option>
                <option value="days">days</option>
                <option value="weeks">weeks</option>
              </select>
            </Field>
          </div>
        </fieldset>
      ) : null}
      <fieldset>
        <legend>Retention</legend>
        <div class="inline">
          <Field id={id('retention')} label="Keep each backup for" error={err('retention.value')}>
            <input
              type="number"
              min={1}
              {...described(id('retention'), err('retention.value'))}
              value={value.retention.value}
              onInput={(e) => set({ retention: { ...value.retention, value: num(e) } })}
            />
          </Field>
          <Field id={id('retention-unit')} label="Retention unit">
            <select
              id={id('retention-unit')}
              value={value.retention.unit}
              onChange={(e) => set({ retention: { ...value.retention, unit: str(e) as RetUnit } })}
            >
              {['days', 'weeks', 'months', 'years'].map((u) => (
                <option key={u} value={u}>
                  {u}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <p class="hint">Long-term rules keep the first backup of each period longer.</p>
        {lt.map((p, i) => {
          const rule = value.longTerm[p];
          const ruleErr = err(`longTerm[${Object.keys(value.longTerm).indexOf(p)}].keep.value`);
          return (
            <div class="inline" key={p}>
              <div class="switch-row">
                <input
                  type="checkbox"
                  id={id(`lt-${p}`)}
                  checked={rule !== undefined}
                  onChange={(e) => {
                    const next = { ...value.longTerm };
                    if ((e.currentTarget as HTMLInputElement).checked)
                      next[p] = { value: [4, 12, 3][i]!, unit: ['weeks', 'months', 'years'][i] as RetUnit };
                    else delete next[p];
                    set({ longTerm: next });
                  }}
                />
                <label for={id(`lt-${p}`)}>Keep the first backup of each {p}</label>
              </div>
              {rule ? (
                <Field
                  id={id(`lt-${p}-value`)}
                  label={`for (${rule.unit})`}
                  error={rule ? ruleErr : undefined}
                >
                  <input
                    type="number"
                    min={1}
                    {...described(id(`lt-${p}-value`), ruleErr)}
                    value={rule.value}
                    onInput={(e) => set({ longTerm: { ...value.longTerm, [p]: { ...rule, value: num(e) } } })}
                  />
                </Field>
              ) : null}
            </div>
          );
        })}
      </fieldset>
      <fieldset>
        <legend>Consistency</legend>
        <div class="switch-row">
          <input
            type="checkbox"
            role="switch"
            id={id('app')}
            checked={value.applicationConsistent}
            onChange={(e) => set({ applicationConsistent: (e.currentTarget as HTMLInputElement).checked })}
          />
          <label for={id('app')}>Application-consistent backup</label>
        </div>
        {value.applicationConsistent && os !== 'windows' ? (
          <div class="switch-row">
            <input
              type="checkbox"
              id={id('fsfreeze')}
              checked={value.fsFreeze}
              onChange={(e) => set({ fsFreeze: (e.currentTarget as HTMLInputElement).checked })}
            />
            <label for={id('fsfreeze')}>File system freeze and thaw</label>
            <p class="hint">
              Runs <code>/tmp/prescript.sh</code> before the freeze and <code>/tmp/postscript.sh</code> after
              the thaw; each must be owned by root with mode 0700 (not a symbolic link), or it is skipped and
              the reason recorded.
            </p>
          </div>
        ) : null}
        {value.applicationConsistent && os === 'windows' ? (
          <div class="switch-row">
            <input
              type="checkbox"
              id={id('writers')}
              checked={value.windowsWriters}
              onChange={(e) => set({ windowsWriters: (e.currentTarget as HTMLInputElement).checked })}
            />
            <label for={id('writers')}>Contain writers by default</label>
          </div>
        ) : null}
        <p class="hint" data-testid="consistency-explained">
          {consistencyExplained(value, os)}
        </p>
      </fieldset>
      <PlanExtras value={value} onChange={set} err={err} id={id} />
    </div>
  );
}
