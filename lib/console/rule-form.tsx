import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './api.js';
import { PlanForm } from './plan-form.js';
import { initialRuleForm, ruleBody, ruleFieldErrors, rulePatch, type RuleFormValue } from './rule-body.js';
import type { ProtectionRule } from './types.js';
import { described, ErrorText, Field, useAction } from './ui.js';

export interface RuleSaved {
  ruleId: string;
  message: string;
}

/**
 * Creates a rule, or changes one (`rule` given). The API's field errors are shown at the field they
 * name; a change sends only what was changed, so an untouched plan keeps the rule's revision.
 */
export function RuleForm({ rule, onClose }: { rule?: ProtectionRule; onClose(saved?: RuleSaved): void }) {
  const [opened] = useState<RuleFormValue>(() => initialRuleForm(rule));
  const [v, setV] = useState<RuleFormValue>(opened);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [run, state] = useAction();
  const first = useRef<HTMLInputElement>(null);
  const form = useRef<HTMLFormElement>(null);
  // The form opens below the list: the keyboard starts in it rather than on the button left behind.
  useEffect(() => first.current?.focus(), []);
  // A refused save leaves the keyboard on the first field the API named.
  useEffect(() => form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(), [errors]);
  const set = (patch: Partial<RuleFormValue>) => setV({ ...v, ...patch });
  const str = (e: Event) => (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;
  // The plan form falls back to unprefixed paths (it also serves plans): only the plan's errors go in.
  const planErrors = Object.fromEntries(Object.entries(errors).filter(([k]) => k.startsWith('plan.')));
  const title = rule ? `Edit rule ${rule.name}` : 'Create rule';
  const submit = (e: Event) => {
    e.preventDefault();
    setErrors({});
    void run(async () => {
      try {
        if (rule === undefined) {
          const made = await api<ProtectionRule>('POST', '/protection-rules', ruleBody(v));
          onClose({ ruleId: made.id, message: `Rule ${made.name} created.` });
          return;
        }
        const patch = rulePatch(rule, opened, v);
        if (Object.keys(patch).length === 0) {
          onClose({ ruleId: rule.id, message: `Rule ${rule.name} unchanged.` });
          return;
        }
        const changed = await api<ProtectionRule>('PATCH', `/protection-rules/${rule.id}`, patch);
        onClose({
          ruleId: changed.id,
          message: `Rule ${changed.name} changed; it applies at the next reconciliation.`,
        });
      } catch (err) {
        if (err instanceof ApiError) setErrors(ruleFieldErrors(err.fieldErrors(), v));
        throw err;
      }
    });
  };
  const text = (id: string, label: string, key: 'name' | 'zones', path: string, hint?: string) => (
    <Field id={id} label={label} error={errors[path]} hint={hint}>
      <input
        {...described(id, errors[path], hint !== undefined)}
        ref={key === 'name' ? first : undefined}
        value={v[key]}
        onInput={(e) => set({ [key]: str(e) })}
      />
    </Field>
  );
  return (
    <form
      ref={form}
      class="panel"
      onSubmit={submit}
      noValidate
      aria-label={title}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <h2>{title}</h2>
      <p class="hint">Escape or Cancel closes the form without saving.</p>
      {text('rule-name', 'Rule name', 'name', 'name')}
      <Field id="rule-priority" label="Priority (the larger wins)" error={errors.priority}>
        <input
          type="number"
          min={1}
          {...described('rule-priority', errors.priority)}
          value={v.priority}
          onInput={(e) => set({ priority: Number(str(e)) })}
        />
      </Field>
      <Field id="rule-tags" label="Tags to match, key=value a line" error={errors['match.tags']}>
        <textarea
          {...described('rule-tags', errors['match.tags'])}
          value={v.tags}
          onInput={(e) => set({ tags: str(e) })}
        />
      </Field>
      {text(
        'rule-zones',
        'Zones (empty: every zone)',
        'zones',
        'match.zoneIds',
        'Zone ids separated by commas, e.g. cn-hangzhou-h, cn-hangzhou-i',
      )}
      <Field id="rule-os" label="Operating system" error={errors['match.osType']}>
        <select
          {...described('rule-os', errors['match.osType'])}
          value={v.osType}
          onChange={(e) => set({ osType: str(e) as RuleFormValue['osType'] })}
        >
          <option value="">Any</option>
          <option value="linux">Linux</option>
          <option value="windows">Windows</option>
        </select>
      </Field>
      <Field id="rule-unmatch" label="When an instance stops matching" error={errors.onUnmatch}>
        <select
          {...described('rule-unmatch', errors.onUnmatch)}
          value={v.onUnmatch}
          onChange={(e) => set({ onUnmatch: str(e) as RuleFormValue['onUnmatch'] })}
        >
          <option value="keep">Keep its plan (it stays protected, as if by hand)</option>
          <option value="remove">Remove its plan (no more backups)</option>
        </select>
      </Field>
      <p class="hint">
        Disks: all disks of each matched instance. Backups already taken are kept either way until they
        expire.
      </p>
      <PlanForm
        value={v.plan}
        onChange={(plan) => set({ plan })}
        errors={planErrors}
        os={v.osType === '' ? null : v.osType}
        placeholder={`${v.name.trim() || 'rule'}-<instance id>`}
        idPrefix="rule-plan"
      />
      {rule ? (
        <p class="hint">
          A changed plan replaces the plan of every instance the rule protects at the next reconciliation.
        </p>
      ) : null}
      <ErrorText error={state.error} />
      <div class="actions">
        <button type="button" onClick={() => onClose()}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={state.busy}>
          Save rule
        </button>
      </div>
    </form>
  );
}
