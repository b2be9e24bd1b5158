import { useState } from 'preact/hooks';
import { api, ApiError, query, type Page } from './api.js';
import type { Backup, Job } from './types.js';
import { described, ErrorText, Field, Time, useAction } from './ui.js';
import { DeleteBackup, DeleteButton } from './backup-delete.js';
import { PagedTable, usePaged } from './list.js';
import { useLive } from './live.js';
import { BackupFacts, copyRegions } from './backup-facts.js';
import { cloneBody, CloneFields, initialClone } from './restore-clone.js';

type Action = { kind: 'restore' | 'mount' | 'expiry' | 'export'; backup: Backup } | null;

/** One instance's backup points with delete, change expiry, restore, mount and export. */
export function Backups({ instanceId, onJob }: { instanceId: string; onJob(message: string): void }) {
  const paged = usePaged<Backup>(
    (cursor) => api<Page<Backup>>('GET', `/backups${query({ instanceId, limit: 10, cursor })}`),
    instanceId,
  );
  const [action, setAction] = useState<Action>(null);
  const [deleting, setDeleting] = useState<Backup | null>(null);
  // Copies and restore tests finish after the backup does: the list follows them without a reload.
  const items = paged.items ?? [];
  useLive(
    paged.reload,
    JSON.stringify(items.map((b) => [b.id, b.status, b.copies, b.verification])),
    items.some((b) => (b.copies ?? []).some((c) => c.status === 'copying')),
  );
  const closed = (message?: string) => {
    if (!message) return;
    onJob(message);
    void paged.reload(true);
  };
  return (
    <div class="backups">
      <h3>Backups of {instanceId}</h3>
      <PagedTable
        paged={paged}
        what="backups"
        empty="No backups yet."
        caption={`Backups of ${instanceId}`}
        columns={[
          'Backup',
          'Completed',
          'Consistency',
          'Expires',
          'Status',
          'Lock, copies, verification',
          'Actions',
        ]}
        row={(b) => {
          const available = b.status === 'AVAILABLE';
          // Only a clone can start from a copy, so a COPIES_ONLY backup can still be restored.
          const restorable = available || (b.status === 'COPIES_ONLY' && copyRegions(b).length > 0);
          return (
            <tr key={b.id} data-backup={b.id}>
              <td>{b.id}</td>
              <td>
                <Time iso={b.completedAt} />
              </td>
              <td>
                {b.consistency.achieved}
                {b.consistency.reason ? <div class="hint">{b.consistency.reason}</div> : null}
              </td>
              <td>
                <Time iso={b.effectiveExpireAt} />
                {b.longTermRule ? <div class="hint">long-term ({b.longTermRule})</div> : null}
              </td>
              <td>
                {b.status}
                {b.inUseBy.length > 0 ? <div class="hint">in use by {b.inUseBy.join(', ')}</div> : null}
                {b.status === 'COPIES_ONLY' ? (
                  <div class="hint">Its own snapshots are gone; restore clones from a copy.</div>
                ) : null}
              </td>
              <BackupFacts b={b} />
              <td class="actions">
                <button
                  type="button"
                  disabled={!restorable}
                  onClick={() => setAction({ kind: 'restore', backup: b })}
                >
                  Restore
                </button>
                <button
                  type="button"
                  disabled={b.status !== 'AVAILABLE'}
                  onClick={() => setAction({ kind: 'mount', backup: b })}
                >
                  Mount
                </button>
                <button
                  type="button"
                  disabled={b.status !== 'AVAILABLE'}
                  onClick={() => setAction({ kind: 'export', backup: b })}
                >
                  Export
                </button>
                <button type="button" onClick={() => setAction({ kind: 'expiry', backup: b })}>
                  Change expiry
                </button>
                <DeleteButton b={b} available={available} onDelete={() => setDeleting(b)} />
              </td>
            </tr>
          );
        }}
      />
      {action ? (
        <BackupAction
          action={action}
          instanceId={instanceId}
          onClose={(message) => {
            setAction(null);
            closed(message);
          }}
        />
      ) : null}
      {deleting ? (
        <DeleteBackup
          backup={deleting}
          onClose={(message) => {
            setDeleting(null);
            closed(message);
          }}
        />
      ) : null}
    </div>
  );
}

function BackupAction({
  action,
  instanceId,
  onClose,
}: {
  action: NonNullable<Action>;
  instanceId: string;
  onClose(message?: string): void;
}) {
  const b = action.backup;
  const regions = copyRegions(b);
  const [mode, setMode] = useState(b.status === 'COPIES_ONLY' ? 'clone-instance' : 'rollback-disk');
  const [clone, setClone] = useState(() => initialClone(b, regions));
  const [diskId, setDiskId] = useState(b.snapshots[0]?.diskId ?? '');
  const [target, setTarget] = useState(instanceId);
  const [stop, setStop] = useState(true);
  const [ttl, setTtl] = useState(24);
  const [expiry, setExpiry] = useState(b.expireAt.slice(0, 19) + 'Z');
  const [paths, setPaths] = useState('/');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [run, state] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    setErrors({});
    void run(async () => {
      try {
        if (action.kind === 'restore') {
          const body: Record<string, unknown> = { mode };
          if (mode === 'clone-instance') Object.assign(body, cloneBody(clone, true));
          else {
            if (mode !== 'rollback-instance') body.diskId = diskId;
            if (mode === 'clone-disk')
              Object.assign(body, { targetInstanceId: target }, cloneBody(clone, false));
            else body.stopInstance = stop;
          }
          const job = await api<Job>('POST', `/backups/${b.id}/restore`, body);
          onClose(`Restore job ${job.id} started.`);
        } else if (action.kind === 'mount') {
          const job = await api<Job>('POST', `/backups/${b.id}/mount`, {
            diskId,
            targetInstanceId: target,
            ttlHours: ttl,
          });
          onClose(`Mount job ${job.id} started.`);
        } else if (action.kind === 'export') {
          const res = await api<{ export: { id: string } }>('POST', `/backups/${b.id}/exports`, {
            diskId,
            paths: paths
              .split('\n')
              .map((p) => p.trim())
              .filter((p) => p !== ''),
          });
          onClose(`Export ${res.export.id} started; see Export Records.`);
        } else {
          await api('PATCH', `/backups/${b.id}`, { expireAt: expiry });
          onClose(`Backup ${b.id} now expires at ${expiry}.`);
        }
      } catch (err) {
        if (err instanceof ApiError) setErrors(err.fieldErrors());
        throw err;
      }
    });
  };
  const title = { restore: 'Restore', mount: 'Mount', expiry: 'Change expiry', export: 'Export' }[
    action.kind
  ];
  return (
    <form class="panel" onSubmit={submit} noValidate aria-label={`${title} ${b.id}`}>
      <h3>
        {title} {b.id}
      </h3>
      {action.kind === 'restore' ? (
        <Field id="restore-mode" label="Restore mode" error={errors.mode}>
          <select
            {...described('restore-mode', errors.mode)}
            value={mode}
            onChange={(e) => setMode((e.currentTarget as HTMLSelectElement).value)}
          >
            {b.status === 'COPIES_ONLY' ? null : (
              <>
                <option value="rollback-disk">Roll back one disk</option>
                <option value="rollback-instance">Roll back the whole instance</option>
              </>
            )}
            <option value="clone-disk">Clone a disk to an instance</option>
            <option value="clone-instance">Clone the whole instance as a new one</option>
          </select>
        </Field>
      ) : null}
      {action.kind === 'restore' && mode.startsWith('clone-') ? (
        <CloneFields
          b={b}
          regions={regions}
          instance={mode === 'clone-instance'}
          value={clone}
          onChange={setClone}
          errors={errors}
        />
      ) : null}
      {action.kind !== 'expiry' &&
      (action.kind === 'mount' || (mode !== 'rollback-instance' && mode !== 'clone-instance')) ? (
        <Field id="action-disk" label="Disk" error={errors.diskId}>
          <select
            {...described('action-disk', errors.diskId)}
            value={diskId}
            onChange={(e) => setDiskId((e.currentTarget as HTMLSelectElement).value)}
          >
            {b.snapshots.map((s) => (
              <option key={s.diskId} value={s.diskId}>
                {s.diskId} ({s.diskType}, {s.sizeGiB} GiB)
              </option>
            ))}
          </select>
        </Field>
      ) : null}
      {action.kind === 'mount' || (action.kind === 'restore' && mode === 'clone-disk') ? (
        <Field id="action-target" label="Target instance" error={errors.targetInstanceId}>
          <input
            {...described('action-target', errors.targetInstanceId)}
            value={target}
            onInput={(e) => setTarget((e.currentTarget as HTMLInputElement).value)}
          />
        </Field>
      ) : null}
      {action.kind === 'restore' && !mode.startsWith('clone-') ? (
        <div class="switch-row">
          <input
            type="checkbox"
            id="action-stop"
            checked={stop}
            onChange={(e) => setStop((e.currentTarget as HTMLInputElement).checked)}
          />
          <label for="action-stop">Stop the instance for the rollback and start it again after</label>
        </div>
      ) : null}
      {action.kind === 'mount' ? (
        <Field id="action-ttl" label="Unmount after (hours)" error={errors.ttlHours}>
          <input
            type="number"
            min={1}
            {...described('action-ttl', errors.ttlHours)}
            value={ttl}
            onInput={(e) => setTtl(Number((e.currentTarget as HTMLInputElement).value))}
          />
        </Field>
      ) : null}
      {action.kind === 'export' ? (
        <Field
          id="action-paths"
          label="Paths to export, one a line"
          error={errors.paths ?? errors['paths[0]']}
        >
          <textarea
            {...described('action-paths', errors.paths ?? errors['paths[0]'])}
            value={paths}
            onInput={(e) => setPaths((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </Field>
      ) : null}
      {action.kind === 'expiry' ? (
        <Field id="action-expiry" label="Expires at (ISO 8601 with offset)" error={errors.expireAt}>
          <input
            {...described('action-expiry', errors.expireAt)}
            value={expiry}
            onInput={(e) => setExpiry((e.currentTarget as HTMLInputElement).value)}
          />
        </Field>
      ) : null}
      <ErrorText error={state.error} />
      <div class="actions">
        <button type="button" onClick={() => onClose()}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={state.busy}>
          {title}
        </button>
      </div>
    </form>
  );
}
