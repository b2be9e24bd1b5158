import { useMemo, useState } from 'preact/hooks';
import { api, query, type Page } from './api.js';
import { errorUnder, FormActions, useApiForm } from './forms.js';
import { ConfirmDelete, PagedTable, usePaged, useListActions, Notice } from './list.js';
import { initialPlanForm, planBody, PlanForm, type PlanFormValue } from './plan-form.js';
import { described, ErrorText, Field, Time, useAction } from './ui.js';

interface Rule {
  id: string;
  name: string;
  priority: number;
  match: { tags: Record<string, string>; zoneIds?: string[]; osType?: 'linux' | 'windows' };
  state: string;
  status: { reconciledAt: string | null; matched: number; protected: number; error: string | null };
  createdAt: string;
}

interface Preview {
  ruleId: string;
  evaluatedAt: string;
  matched: number;
  rows: { instanceId: string; action: string; otherRuleId: string | null }[];
}

/** `key=value` a line, as the rule's tag match. */
function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const at = t.indexOf('=');
    if (at < 0) tags[t] = '';
    else tags[t.slice(0, at).trim()] = t.slice(at + 1).trim();
  }
  return tags;
}

/** Protection rules: every instance whose tags match is protected with the rule's plan. */
export function Rules() {
  const paged = usePaged<Rule>(
    (cursor) => api<Page<Rule>>('GET', `/protection-rules${query({ limit: 20, cursor })}`),
    'rules',
  );
  const { state, act } = useListActions(paged);
  const [creating, setCreating] = useState(false);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const [run, previewState] = useAction();
  return (
    <section aria-labelledby="rules-title">
      <h1 id="rules-title">Protection Rules</h1>
      <p class="hint">
        Every instance whose tags match a rule is protected (all disks) with the rule’s plan.
      </p>
      <Notice state={state} />
      <button type="button" class="primary" onClick={() => setCreating(true)} disabled={creating}>
        Create rule
      </button>
      {creating ? (
        <RuleForm
          onClose={(message) => {
            setCreating(false);
            if (message) void act(message, async () => undefined);
          }}
        />
      ) : null}
      <PagedTable
        paged={paged}
        what="protection rules"
        empty="No protection rule yet."
        caption="Protection rules"
        columns={['Rule', 'Priority', 'Match', 'Matched / protected', 'Reconciled', 'Actions']}
        row={(r) => (
          <tr key={r.id} data-rule={r.name}>
            <td>
              <strong>{r.name}</strong>
              <div class="hint">{r.state}</div>
            </td>
            <td>{r.priority}</td>
            <td>
              {Object.entries(r.match.tags)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')}
              {r.match.osType ? <div class="hint">{r.match.osType}</div> : null}
            </td>
            <td>
              {r.status.matched} / {r.status.protected}
              {r.status.error ? <div class="hint">{r.status.error}</div> : null}
            </td>
            <td>
              <Time iso={r.status.reconciledAt} />
            </td>
            <td class="actions">
              <button
                type="button"
                onClick={() =>
                  void run(async () =>
                    setPreview(await api<Preview>('GET', `/protection-rules/${r.id}/preview`)),
                  )
                }
              >
                Preview {r.name}
              </button>
              <button type="button" class="danger" onClick={() => setDeleting(r)}>
                Delete
              </button>
            </td>
          </tr>
        )}
      />
      <ErrorText error={previewState.error} />
      {preview ? <PreviewTable preview={preview} /> : null}
      <ConfirmDelete
        row={deleting}
        title={(r) => `Delete rule ${r.name}?`}
        confirmLabel="Delete rule"
        onClose={() => setDeleting(null)}
        onConfirm={(r) => {
          if (preview?.ruleId === r.id) setPreview(null);
          void act(`Rule ${r.name} is being deleted.`, () => api('DELETE', `/protection-rules/${r.id}`));
        }}
      >
        <p>The instances it protects keep or lose their plans as the rule’s “on unmatch” says.</p>
      </ConfirmDelete>
    </section>
  );
}

function PreviewTable({ preview }: { preview: Preview }) {
  return (
    <div class="panel" role="region" aria-label="Rule preview">
      <h2>
        What the rule would do ({preview.matched} matched, <Time iso={preview.evaluatedAt} />)
      </h2>
      {preview.rows.length === 0 ? (
        <p class="state empty">No instance matches it now.</p>
      ) : (
        <table>
          <caption class="sr-only">Rule preview</caption>
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Action</th>
              <th scope="col">Other rule</th>
            </tr>
          </thead>
          <tbody>
            {preview.rows.map((row) => (
              <tr key={row.instanceId} data-preview={row.action}>
                <td>{row.instanceId}</td>
                <td>{row.action}</td>
                <td>{row.otherRuleId ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function RuleForm({ onClose }: { onClose(message?: string): void }) {
  const [name, setName] = useState('');
  const [priority, setPriority] = useState(100);
  const [tags, setTags] = useState('');
  const [osType, setOsType] = useState('');
  const [form, setForm] = useState<PlanFormValue>(() => initialPlanForm());
  const { errors, state, submit } = useApiForm();
  const placeholder = useMemo(() => `rule-${Math.random().toString(36).slice(2, 8)}`, []);
  const tagError = errorUnder(errors, 'match.tags');
  const send = async () => {
    const rule = await api<Rule>('POST', '/protection-rules', {
      name: name.trim(),
      priority,
      match: { tags: parseTags(tags), ...(osType === '' ? {} : { osType }) },
      disks: 'all',
      plan: planBody(form),
    });
    onClose(`Rule ${rule.name} created.`);
  };
  const str = (e: Event) => (e.currentTarget as HTMLInputElement).value;
  return (
    <form class="panel" onSubmit={submit(send)} noValidate aria-label="Create rule">
      <h2>Create rule</h2>
      <Field id="rule-name" label="Rule name" error={errors.name}>
        <input {...described('rule-name', errors.name)} value={name} onInput={(e) => setName(str(e))} />
      </Field>
      <Field id="rule-priority" label="Priority (the larger wins)" error={errors.priority}>
        <input
          type="number"
          min={1}
          {...described('rule-priority', errors.priority)}
          value={priority}
          onInput={(e) => setPriority(Number(str(e)))}
        />
      </Field>
      <Field id="rule-tags" label="Tags to match, key=value a line" error={tagError}>
        <textarea
          {...described('rule-tags', tagError)}
          value={tags}
          onInput={(e) => setTags((e.currentTarget as HTMLTextAreaElement).value)}
        />
      </Field>
      <Field id="rule-os" label="Operating system" error={errors['match.osType']}>
        <select
          {...described('rule-os', errors['match.osType'])}
          value={osType}
          onChange={(e) => setOsType((e.currentTarget as HTMLSelectElement).value)}
        >
          <option value="">Any</option>
          <option value="linux">Linux</option>
          <option value="windows">Windows</option>
        </select>
      </Field>
      <p class="hint">Disks: all disks of each matched instance.</p>
      <PlanForm
        value={form}
        onChange={setForm}
        errors={errors}
        os={osType === '' ? null : (osType as 'linux')}
        placeholder={placeholder}
        idPrefix="rule-plan"
      />
      <FormActions state={state} submitLabel="Save rule" onCancel={() => onClose()} />
    </form>
  );
}
