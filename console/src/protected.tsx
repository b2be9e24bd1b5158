import { useState } from 'preact/hooks';
import { api, query, type Page } from './api.js';
import { Backups } from './backups.js';
import type { Backup, ProtectedInstance } from './types.js';
import { Confirm, ErrorText, ListState, Time, useAction, usePaged } from './ui.js';

/** Protected ECS Instances: plan, last backup and its consistency; Protect Now, Stop Protection, backups. */
export function ProtectedInstances() {
  const paged = usePaged<ProtectedInstance>(
    (cursor) => api<Page<ProtectedInstance>>('GET', `/protected-instances${query({ limit: 20, cursor })}`),
    'protected',
  );
  const [open, setOpen] = useState<string | null>(null);
  const [stopping, setStopping] = useState<string | null>(null);
  const [run, state] = useAction();
  const protectNow = (id: string) =>
    run(async () => {
      const job = await api<{ id: string }>('POST', `/protected-instances/${id}/backups`, {});
      state.setMessage(`Backup job ${job.id} started for ${id}.`);
    });
  const stop = (id: string) =>
    run(async () => {
      setStopping(null);
      await api('DELETE', `/protected-instances/${id}`);
      state.setMessage(`Protection of ${id} stopped; its backups are kept.`);
      if (open === id) setOpen(null);
      await paged.reload(true);
    });
  return (
    <section aria-labelledby="protected-title">
      <h1 id="protected-title">Protected ECS Instances</h1>
      {state.message ? (
        <p role="status" class="ok">
          {state.message}
        </p>
      ) : null}
      <ErrorText error={state.error} />
      <ListState
        paged={paged}
        what="protected instances"
        empty="No instance is protected yet. Use Add ECS Instance."
      >
        {(items) => (
          <div
            class="table-wrap"
            tabIndex={0}
            role="region"
            aria-label="Table (scrolls sideways on small screens)"
          >
            <table>
              <caption class="sr-only">Protected instances</caption>
              <thead>
                <tr>
                  <th scope="col">Instance</th>
                  <th scope="col">Plan</th>
                  <th scope="col">Last backup</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {items.map((p) => (
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
                      <button
                        type="button"
                        onClick={() => void protectNow(p.instanceId)}
                        disabled={state.busy}
                      >
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
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
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
