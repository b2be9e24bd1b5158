import { useState } from 'preact/hooks';
import { api, query, type Page } from './api.js';
import { Backups } from './backups.js';
import type { Backup, ProtectedInstance } from './types.js';
import { Confirm, described, ErrorText, Field, Time, useAction } from './ui.js';
import { PagedTable, usePaged, useListActions, Notice } from './list.js';
import { ApiError } from './api.js';

/** Protected ECS Instances: plan, last backup and its consistency; Protect Now, Stop Protection, backups. */
export function ProtectedInstances() {
  const paged = usePaged<ProtectedInstance>(
    (cursor) => api<Page<ProtectedInstance>>('GET', `/protected-instances${query({ limit: 20, cursor })}`),
    'protected',
  );
  const [open, setOpen] = useState<string | null>(null);
  const [stopping, setStopping] = useState<string | null>(null);
  const { state, act } = useListActions(paged);
  const [now, setNow] = useState<ProtectedInstance | null>(null);
  const stop = (id: string) =>
    act(`Protection of ${id} stopped; its backups are kept.`, async () => {
      setStopping(null);
      await api('DELETE', `/protected-instances/${id}`);
      if (open === id) setOpen(null);
    });
  return (
    <section aria-labelledby="protected-title">
      <h1 id="protected-title">Protected ECS Instances</h1>
      <Notice state={state} />
      <PagedTable
        paged={paged}
        what="protected instances"
        empty="No instance is protected yet. Use Add ECS Instance."
        caption="Protected instances"
        columns={['Instance', 'Plan', 'Last backup', 'Actions']}
        row={(p) => (
          <tr key={p.instanceId}>
            <td>
              <strong>{p.instanceId}</strong>
              <div class="hint">disks: {p.disks === 'all' ? 'all' : p.disks.join(', ')}</div>
            </td>
            <td>{p.plan ? `${p.plan.name} (${p.plan.state})` : 'no plan'}</td>
            <td>
              <LastBackup instanceId={p.instanceId} />
            </td>
            <td class="actions">
              <button type="button" onClick={() => setNow(p)} disabled={state.busy}>
                Protect Now
              </button>
              <button
                type="button"
                aria-expanded={open === p.instanceId}
                onClick={() => setOpen(open === p.instanceId ? null : p.instanceId)}
              >
                Backups
              </button>
              <button type="button" class="danger" onClick={() => setStopping(p.instanceId)}>
                Stop Protection
              </button>
            </td>
          </tr>
        )}
      />
      {now ? (
        <ProtectNow
          target={now}
          onClose={(message) => {
            setNow(null);
            if (message) state.setMessage(message);
          }}
        />
      ) : null}
      {open ? <Backups instanceId={open} onJob={(m) => state.setMessage(m)} /> : null}
      {stopping ? (
        <Confirm
          title={`Stop protecting ${stopping}?`}
          confirmLabel="Stop Protection"
          onCancel={() => setStopping(null)}
          onConfirm={() => void stop(stopping)}
        >
          <p>
            Its plans are deleted and no more backups run. The backups already taken are kept until they
            expire.
          </p>
        </Confirm>
      ) : null}
    </section>
  );
}

function LastBackup({ instanceId }: { instanceId: string }) {
  const paged = usePaged<Backup>(
    () => api<Page<Backup>>('GET', `/backups${query({ instanceId, limit: 1, status: 'AVAILABLE' })}`),
    instanceId,
  );
  const b = paged.items?.[0];
  if (paged.items === null) return <span class="hint">…</span>;
  if (b === undefined) return <span class="hint">none yet</span>;
  return (
    <span>
      <Time iso={b.completedAt} />, {b.consistency.achieved}
      {b.consistency.reason ? <span class="hint"> — {b.consistency.reason}</span> : null}
    </span>
  );
}

type RetUnit = 'days' | 'weeks' | 'months' | 'years';

/** One backup now: the plan's disks, retention and long-term rules unless changed here. */
function ProtectNow({ target, onClose }: { target: ProtectedInstance; onClose(message?: string): void }) {
  const plan = target.plan;
  const [value, setValue] = useState(plan?.retention.value ?? 7);
  const [unit, setUnit] = useState<RetUnit>(plan?.retention.unit ?? 'days');
  const [longTerm, setLongTerm] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [run, state] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    setErrors({});
    void run(async () => {
      try {
        const job = await api<{ id: string }>('POST', `/protected-instances/${target.instanceId}/backups`, {
          disks: target.disks,
          retention: { value, unit },
          ...(longTerm ? { longTerm: [{ period: 'month', keep: { value: 12, unit: 'months' } }] } : {}),
        });
        onClose(`Backup job ${job.id} started for ${target.instanceId}.`);
      } catch (err) {
        if (err instanceof ApiError) setErrors(err.fieldErrors());
        throw err;
      }
    });
  };
  return (
    <form class="panel" onSubmit={submit} noValidate aria-labelledby="now-title">
      <h2 id="now-title">Protect {target.instanceId} now</h2>
      <p class="hint">Disks: {target.disks === 'all' ? 'all attached disks' : target.disks.join(', ')}</p>
      <div class="inline">
        <Field id="now-retention" label="Keep this backup for" error={errors['retention.value']}>
          <input
            type="number"
            min={1}
            {...described('now-retention', errors['retention.value'])}
            value={value}
            onInput={(e) => setValue(Number((e.currentTarget as HTMLInputElement).value))}
          />
        </Field>
        <Field id="now-unit" label="Unit">
          <select
            id="now-unit"
            value={unit}
            onChange={(e) => setUnit((e.currentTarget as HTMLSelectElement).value as RetUnit)}
          >
            {['days', 'weeks', 'months', 'years'].map((u) => (
              <option key={u}>{u}</option>
            ))}
          </select>
        </Field>
      </div>
      <div class="switch-row">
        <input
          type="checkbox"
          id="now-long"
          checked={longTerm}
          onChange={(e) => setLongTerm((e.currentTarget as HTMLInputElement).checked)}
        />
        <label for="now-long">Keep for 12 months if it is the first backup of its month</label>
      </div>
      <ErrorText error={state.error} />
      <div class="actions">
        <button type="button" onClick={() => onClose()}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={state.busy}>
          Back up now
        </button>
      </div>
    </form>
  );
}
