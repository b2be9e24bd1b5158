import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError, query, type Page } from './api.js';
import { initialPlanForm, planBody, PlanForm, type PlanFormValue } from './plan-form.js';
import type { Plan, RetentionPreview } from './types.js';
import { Confirm, ErrorText, Loading, Time, useAction } from './ui.js';
import { PagedTable, usePaged, useListActions, Notice } from './list.js';

const UNIT_MS = { hours: 3_600_000, days: 86_400_000, weeks: 7 * 86_400_000 };

/** The next few run times after nextRunAt (fixed intervals; days and weeks as the server counts them). */
export function nextRuns(plan: Plan, count = 3): string[] {
  if (plan.nextRunAt === null || plan.schedule === null) return [];
  const step = plan.schedule.every.value * UNIT_MS[plan.schedule.every.unit];
  const first = Date.parse(plan.nextRunAt);
  return Array.from({ length: count }, (_, i) => new Date(first + i * step).toISOString());
}

/** Protection Plans: Run Now, Modify, Suspend, Resume, Delete; next runs; the retention preview. */
export function Plans() {
  const paged = usePaged<Plan>(
    (cursor) => api<Page<Plan>>('GET', `/plans${query({ limit: 20, cursor })}`),
    'plans',
  );
  const { state, act } = useListActions(paged);
  const [preview, setPreview] = useState<string | null>(null);
  const [editing, setEditing] = useState<Plan | null>(null);
  const [deleting, setDeleting] = useState<Plan | null>(null);
  return (
    <section aria-labelledby="plans-title">
      <h1 id="plans-title">Protection Plans</h1>
      <Notice state={state} />
      <PagedTable
        paged={paged}
        what="plans"
        empty="No plans yet. Use Add ECS Instance to make one."
        caption="Protection plans"
        columns={['Plan', 'Instance', 'Schedule', 'Retention', 'State', 'Next runs', 'Actions']}
        row={(p) => (
          <tr key={p.id}>
            <td>
              <strong>{p.name}</strong>
              <div class="hint">{p.id}</div>
            </td>
            <td>{p.instanceId}</td>
            <td>{p.schedule ? `every ${p.schedule.every.value} ${p.schedule.every.unit}` : 'on demand'}</td>
            <td>
              {p.retention.value} {p.retention.unit}
              {p.longTerm.map((r) => (
                <div class="hint" key={r.period}>
                  first of each {r.period}: {r.keep.value} {r.keep.unit}
                </div>
              ))}
            </td>
            <td data-testid={`state-${p.id}`}>{p.state}</td>
            <td>
              {p.state === 'SUSPENDED'
                ? 'suspended'
                : nextRuns(p).map((t) => (
                    <div key={t}>
                      <Time iso={t} />
                    </div>
                  ))}
            </td>
            <td class="actions">
              <button
                type="button"
                onClick={() =>
                  void act(`Plan ${p.name} is running now.`, () => api('POST', `/plans/${p.id}/run`))
                }
              >
                Run Now
              </button>
              <button type="button" onClick={() => setEditing(p)}>
                Modify
              </button>
              {p.state === 'ACTIVE' ? (
                <button
                  type="button"
                  onClick={() =>
                    void act(`Plan ${p.name} suspended.`, () => api('POST', `/plans/${p.id}/suspend`))
                  }
                >
                  Suspend
                </button>
              ) : (
                <button
                  type="button"
                  onClick={() =>
                    void act(`Plan ${p.name} resumed.`, () => api('POST', `/plans/${p.id}/resume`))
                  }
                >
                  Resume
                </button>
              )}
              <button
                type="button"
                aria-expanded={preview === p.id}
                onClick={() => setPreview(preview === p.id ? null : p.id)}
              >
                Retention preview
              </button>
              <button type="button" class="danger" onClick={() => setDeleting(p)}>
                Delete
              </button>
            </td>
          </tr>
        )}
      />
      {preview ? <RetentionTimeline planId={preview} /> : null}
      {editing ? (
        <ModifyPlan
          plan={editing}
          onClose={(changed) => {
            setEditing(null);
            if (changed) {
              state.setMessage(`Plan ${editing.name} changed.`);
              void paged.reload(true);
            }
          }}
        />
      ) : null}
      {deleting ? (
        <Confirm
          title={`Delete plan ${deleting.name}?`}
          confirmLabel="Delete plan"
          onCancel={() => setDeleting(null)}
          onConfirm={() => {
            const p = deleting;
            setDeleting(null);
            void act(`Plan ${p.name} deleted; its backups are kept.`, () => api('DELETE', `/plans/${p.id}`));
          }}
        >
          <p>No more backups run on this plan. The backups it made are kept until they expire.</p>
        </Confirm>
      ) : null}
    </section>
  );
}

function ModifyPlan({ plan, onClose }: { plan: Plan; onClose(changed: boolean): void }) {
  const [form, setForm] = useState<PlanFormValue>(() => initialPlanForm(plan));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [run, state] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    setErrors({});
    void run(async () => {
      try {
        await api('PATCH', `/plans/${plan.id}`, planBody(form, true));
        onClose(true);
      } catch (err) {
        if (err instanceof ApiError) setErrors(err.fieldErrors());
        throw err;
      }
    });
  };
  return (
    <form class="panel" onSubmit={submit} noValidate aria-labelledby="modify-title">
      <h2 id="modify-title">Modify {plan.name}</h2>
      <PlanForm
        value={form}
        onChange={setForm}
        errors={errors}
        os={null}
        placeholder={plan.name}
        idPrefix="modify"
      />
      <ErrorText error={state.error} />
      <div class="actions">
        <button type="button" onClick={() => onClose(false)}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={state.busy}>
          Save plan
        </button>
      </div>
    </form>
  );
}

/** The preview as a picture: one mark per backup on a time axis, kept or to be deleted, with why. */
export function RetentionTimeline({ planId }: { planId: string }) {
  const [data, setData] = useState<RetentionPreview | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setData(null);
    api<RetentionPreview>('GET', `/plans/${planId}/retention-preview`).then(setData, setError);
  }, [planId]);
  const layout = useMemo(() => {
    if (data === null || data.points.length === 0) return null;
    const times = data.points.map((p) => Date.parse(p.completedAt));
    const lo = Math.min(...times);
    const hi = Math.max(...times, lo + 1);
    return data.points.map((p, i) => ({ ...p, x: 30 + ((times[i]! - lo) / (hi - lo)) * 540 }));
  }, [data]);
  if (error) return <ErrorText error={error} />;
  if (data === null) return <Loading what="retention preview" />;
  return (
    <figure class="timeline" aria-labelledby="timeline-caption">
      <figcaption id="timeline-caption">
        Retention preview at <Time iso={data.evaluatedAt} />: {data.keep} kept, {data.delete} to be deleted.
      </figcaption>
      {layout === null ? (
        <p class="state empty">No backups yet, so nothing to keep or delete.</p>
      ) : (
        <svg
          viewBox="0 0 600 90"
          role="img"
          aria-label={`${data.keep} backups kept, ${data.delete} to be deleted`}
        >
          <line x1="20" y1="45" x2="580" y2="45" class="axis" />
          {layout.map((p) => {
            const longTerm = p.decision === 'keep' && /long-term/i.test(p.reason);
            return (
              <g
                key={p.backupId}
                class={`mark ${p.decision}${longTerm ? ' long-term' : ''}`}
                data-decision={p.decision}
              >
                <title>{`${p.backupId} ${new Date(p.completedAt).toISOString()}: ${p.decision} — ${p.reason}`}</title>
                {p.decision === 'keep' ? (
                  <circle cx={p.x} cy={45} r={longTerm ? 11 : 8} />
                ) : (
                  <path d={`M${p.x - 7} 38 l14 14 M${p.x + 7} 38 l-14 14`} />
                )}
              </g>
            );
          })}
        </svg>
      )}
      <ul class="legend">
        <li>
          <span class="swatch keep" aria-hidden="true" /> kept
        </li>
        <li>
          <span class="swatch long-term" aria-hidden="true" /> long-term keep
        </li>
        <li>
          <span class="swatch delete" aria-hidden="true" /> to be deleted
        </li>
      </ul>
      <ul class="sr-only">
        {data.points.map((p) => (
          <li key={p.backupId}>
            {p.backupId}: {p.decision} — {p.reason}
          </li>
        ))}
      </ul>
    </figure>
  );
}
