import type { Backup } from './types.js';
import { described, Field } from './ui.js';

export interface CloneValue {
  regionId: string;
  instanceType: string;
  vSwitchId: string;
  securityGroupIds: string;
  instanceName: string;
}

export function initialClone(b: Backup, regions: string[]): CloneValue {
  return {
    // A backup whose own snapshots are gone restores only from a copy, so the first copy is chosen.
    regionId: b.status === 'COPIES_ONLY' ? (regions[0] ?? '') : '',
    instanceType: '',
    vSwitchId: '',
    securityGroupIds: '',
    instanceName: '',
  };
}

/** The clone fields the operator filled; empty ones are left out so the API's defaults apply. */
export function cloneBody(v: CloneValue, instance: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (v.regionId !== '') out.regionId = v.regionId;
  if (!instance) return out;
  if (v.instanceType.trim() !== '') out.instanceType = v.instanceType.trim();
  if (v.vSwitchId.trim() !== '') out.vSwitchId = v.vSwitchId.trim();
  const groups = v.securityGroupIds
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (groups.length > 0) out.securityGroupIds = groups;
  if (v.instanceName.trim() !== '') out.instanceName = v.instanceName.trim();
  return out;
}

/** Where a clone starts from, and for clone-instance what the new instance is like. */
export function CloneFields({
  b,
  regions,
  instance,
  value,
  onChange,
  errors,
}: {
  b: Backup;
  regions: string[];
  instance: boolean;
  value: CloneValue;
  onChange(v: CloneValue): void;
  errors: Record<string, string>;
}) {
  const set = (patch: Partial<CloneValue>) => onChange({ ...value, ...patch });
  const str = (e: Event) => (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;
  const text = (key: Exclude<keyof CloneValue, 'regionId'>, label: string, hint: string) => (
    <Field id={`clone-${key}`} label={label} error={errors[key] ?? errors[`${key}[0]`]} hint={hint}>
      <input
        {...described(`clone-${key}`, errors[key] ?? errors[`${key}[0]`], true)}
        value={value[key]}
        onInput={(e) => set({ [key]: str(e) })}
      />
    </Field>
  );
  const source = b.source;
  return (
    <>
      {regions.length > 0 ? (
        <Field id="clone-region" label="Clone from" error={errors.regionId}>
          <select
            {...described('clone-region', errors.regionId)}
            value={value.regionId}
            onChange={(e) => set({ regionId: str(e) })}
          >
            {b.status === 'COPIES_ONLY' ? null : <option value="">This region (the backup itself)</option>}
            {regions.map((r) => (
              <option key={r} value={r}>
                The copy in {r}
              </option>
            ))}
          </select>
        </Field>
      ) : null}
      {instance ? (
        <fieldset>
          <legend>New instance (empty fields keep the backed-up instance’s)</legend>
          {text('instanceType', 'Instance type', source?.instanceType ?? 'e.g. ecs.g7.large')}
          {text('vSwitchId', 'vSwitch', source?.vSwitchId ?? 'e.g. vsw-bp1...')}
          {text(
            'securityGroupIds',
            'Security groups (comma separated)',
            source && source.securityGroupIds.length > 0
              ? source.securityGroupIds.join(', ')
              : 'e.g. sg-bp1...',
          )}
          {text('instanceName', 'Instance name', source ? `${source.instanceName}-clone` : 'e.g. web-clone')}
          {value.regionId !== '' ? (
            <p class="hint">In another region, give its vSwitch and security groups.</p>
          ) : null}
        </fieldset>
      ) : null}
    </>
  );
}
