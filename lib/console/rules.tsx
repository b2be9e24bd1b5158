import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query, type Page } from './api.js';
import { PagedTable, usePaged, useListActions, Notice } from './list.js';
import { RuleDelete } from './rule-delete.js';
import { RuleForm, type RuleSaved } from './rule-form.js';
import type { ProtectionRule as Rule } from './types.js';
import { ErrorText, Time, useAction } from './ui.js';

interface Preview {
  ruleId: string;
  evaluatedAt: string;
  matched: number;
  rows: { instanceId: string; action: string; otherRuleId: string | null }[];
}

/** Protection rules: every instance whose tags match is protected with the rule's plan. */
export function Rules() {
  const paged = usePaged<Rule>(
    (cursor) => api<Page<Rule>>('GET', `/protection-rules${query({ limit: 20, cursor })}`),
    'rules',
  );
  const { state, act } = useListActions(paged);
  const [editing, setEditing] = useState<Rule | 'new' | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const [run, previewState] = useAction();
  const showPreview = async (ruleId: string) =>
    setPreview(await api<Preview>('GET', `/protection-rules/${ruleId}/preview`));
  // What a saved rule would do is the question right after saving it, so its preview comes along.
  const saved = (s?: RuleSaved) => {
    setEditing(null);
    if (s) void act(s.message, () => showPreview(s.ruleId));
  };
  // A closed form gives the keyboard back to the button that opened it (enabled again by then).
  const opener = useRef<HTMLElement | null>(null);
  const edit = (target: Rule | 'new') => {
    opener.current = document.activeElement as HTMLElement | null;
    setEditing(target);
  };
  useEffect(() => {
    if (editing === null && opener.current?.isConnected) opener.current.focus();
  }, [editing]);
  return (
    <section aria-labelledby="rules-title">
      <h1 id="rules-title">Protection Rules</h1>
      <p class="hint">
        Every instance whose tags match a rule is protected (all disks) with the rule’s plan.
      </p>
      <Notice state={state} />
      <button type="button" class="primary" onClick={() => edit('new')} disabled={editing !== null}>
        Create rule
      </button>
      {editing === 'new' ? <RuleForm onClose={saved} /> : null}
      {editing !== null && editing !== 'new' ? (
        <RuleForm key={editing.id} rule={editing} onClose={saved} />
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
              <div class="hint">
                {r.state === 'DELETING'
                  ? 'DELETING: its instances are released at the next reconciliation'
                  : r.state}
              </div>
            </td>
            <td>{r.priority}</td>
            <td>
              {Object.entries(r.match.tags)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')}
              {r.match.zoneIds ? <div class="hint">zones {r.match.zoneIds.join(', ')}</div> : null}
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
              <button type="button" onClick={() => void run(() => showPreview(r.id))}>
                Preview {r.name}
              </button>
              <button
                type="button"
                disabled={r.state !== 'ACTIVE' || editing !== null}
                onClick={() => edit(r)}
              >
                Edit {r.name}
              </button>
              <button
                type="button"
                class="danger"
                disabled={r.state !== 'ACTIVE'}
                onClick={() => setDeleting(r)}
              >
                Delete {r.name}
              </button>
            </td>
          </tr>
        )}
      />
      <ErrorText error={previewState.error} />
      {preview ? <PreviewTable preview={preview} /> : null}
      {deleting ? (
        <RuleDelete
          rule={deleting}
          onCancel={() => setDeleting(null)}
          onConfirm={() => {
            const r = deleting;
            setDeleting(null);
            if (preview?.ruleId === r.id) setPreview(null);
            void act(`Rule ${r.name} is being deleted.`, () => api('DELETE', `/protection-rules/${r.id}`));
          }}
        />
      ) : null}
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
