import { useState } from 'preact/hooks';
import { api, query, type Page } from './api.js';
import { useLive } from './live.js';
import { TERMINAL } from './types.js';
import { Confirm, ErrorText, Loading, Progress, Time } from './ui.js';
import { ListState, PagedTable, usePaged, useListActions, Notice } from './list.js';

interface ExportRecord {
  id: string;
  backupId: string;
  instanceId: string;
  diskId?: string;
  status: string;
  progress?: { files: number; bytes: number; totalFiles: number | null; totalBytes: number | null };
  reason?: string | null;
  expiresAt?: string | null;
  deletedAt?: string | null;
  createdAt?: string;
}

interface Entry {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  size?: number;
  sha256?: string | null;
  target?: string | null;
}

function percent(e: ExportRecord): number {
  const p = e.progress;
  if (p === undefined) return e.status === 'COMPLETE' ? 100 : 0;
  if (p.totalBytes) return Math.min(100, Math.round((p.bytes / p.totalBytes) * 100));
  if (p.totalFiles) return Math.min(100, Math.round((p.files / p.totalFiles) * 100));
  return e.status === 'COMPLETE' ? 100 : 0;
}

/**
 * Asks for a signed link with the token (`as=link`: a redirect to another origin would drop the
 * answer), then lets the browser fetch the link itself: the file streams to disk, not into memory,
 * and the token is in no URL.
 */
async function download(exportId: string, path: string | null): Promise<void> {
  const link = await api<{ url: string; filename: string }>(
    'GET',
    `/exports/${exportId}/download${query({ path, as: 'link' })}`,
  );
  const a = document.createElement('a');
  a.href = link.url;
  a.download = link.filename;
  document.body.append(a);
  a.click();
  a.remove();
}

/** Export Records: status and progress, browse the tree, download a file or all, Cancel, Delete. */
export function Exports() {
  const paged = usePaged<ExportRecord>(
    (cursor) => api<Page<ExportRecord>>('GET', `/exports${query({ limit: 20, cursor })}`),
    'exports',
  );
  const [browsing, setBrowsing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const kick = useLive(
    paged.reload,
    JSON.stringify(paged.items?.map((e) => [e.id, e.status, e.progress])),
    paged.items?.some((e) => !TERMINAL.includes(e.status)) ?? false,
  );
  const { run, state, act } = useListActions(paged, kick);
  return (
    <section aria-labelledby="exports-title">
      <h1 id="exports-title">Export Records</h1>
      <button type="button" onClick={() => void paged.reload()}>
        Refresh
      </button>
      <Notice state={state} />
      <PagedTable
        paged={paged}
        what="exports"
        empty="No exports. Export files from a backup under Protected ECS Instances."
        caption="Exports"
        columns={['Export', 'Backup', 'Status', 'Progress', 'Expires', 'Actions']}
        row={(e) => (
          <tr key={e.id} data-export={e.id} data-status={e.status}>
            <td>{e.id}</td>
            <td>
              {e.backupId}
              <div class="hint">{e.instanceId}</div>
            </td>
            <td class="status">
              {e.deletedAt ? 'DELETED' : e.status}
              {e.reason ? <div class="hint">{e.reason}</div> : null}
            </td>
            <td>
              <Progress value={percent(e)} label={`export ${e.id} progress`} />
              {e.progress ? (
                <div class="hint">
                  {e.progress.files} files, {e.progress.bytes} bytes
                </div>
              ) : null}
            </td>
            <td>
              <Time iso={e.expiresAt} />
            </td>
            <td class="actions">
              {e.status === 'COMPLETE' && !e.deletedAt ? (
                <>
                  <button
                    type="button"
                    aria-expanded={browsing === e.id}
                    onClick={() => setBrowsing(browsing === e.id ? null : e.id)}
                  >
                    Browse
                  </button>
                  <button type="button" onClick={() => void run(() => download(e.id, null))}>
                    Download all
                  </button>
                </>
              ) : null}
              {!TERMINAL.includes(e.status) ? (
                <button
                  type="button"
                  onClick={() =>
                    void act(`Cancel of ${e.id} requested.`, () => api('POST', `/exports/${e.id}/cancel`))
                  }
                >
                  Cancel
                </button>
              ) : null}
              {TERMINAL.includes(e.status) && !e.deletedAt ? (
                <button type="button" class="danger" onClick={() => setDeleting(e.id)}>
                  Delete
                </button>
              ) : null}
            </td>
          </tr>
        )}
      />
      {browsing ? (
        <Browser exportId={browsing} onError={(err) => void run(() => Promise.reject(err))} />
      ) : null}
      {deleting ? (
        <Confirm
          title={`Delete export ${deleting}?`}
          confirmLabel="Delete export"
          onCancel={() => setDeleting(null)}
          onConfirm={() => {
            const id = deleting;
            setDeleting(null);
            if (browsing === id) setBrowsing(null);
            void act(`Export ${id} deleted.`, () => api('DELETE', `/exports/${id}`));
          }}
        >
          <p>The exported files are deleted; the record stays, marked deleted. The backup itself is kept.</p>
        </Confirm>
      ) : null}
    </section>
  );
}

function Browser({ exportId, onError }: { exportId: string; onError(err: unknown): void }) {
  const [path, setPath] = useState('/');
  const paged = usePaged<Entry>(
    (cursor) => api<Page<Entry>>('GET', `/exports/${exportId}/files${query({ path, cursor })}`),
    `${exportId}:${path}`,
  );
  const join = (name: string) => (path.endsWith('/') ? `${path}${name}` : `${path}/${name}`);
  const up = path === '/' ? null : path.replace(/\/[^/]+$/, '') || '/';
  if (paged.items === null && paged.error === null) return <Loading what="exported files" />;
  return (
    <div class="panel" aria-labelledby="browse-title">
      <h2 id="browse-title">
        {exportId}: {path}
      </h2>
      {up !== null ? (
        <button type="button" onClick={() => setPath(up)}>
          Up to {up}
        </button>
      ) : null}
      <ErrorText error={paged.error} />
      <ListState paged={paged} what="exported files" empty="This folder is empty.">
        {(items) => (
          <ul class="tree">
            {items.map((e) => (
              <li key={e.name}>
                {e.type === 'dir' ? (
                  <button type="button" class="link" onClick={() => setPath(join(e.name))}>
                    {e.name}/
                  </button>
                ) : e.type === 'symlink' ? (
                  <span>
                    {e.name} → {e.target}
                  </span>
                ) : (
                  <span>
                    {e.name} <span class="hint">({e.size ?? '?'} bytes)</span>{' '}
                    <button
                      type="button"
                      aria-label={`Download ${join(e.name)}`}
                      onClick={() => download(exportId, join(e.name)).catch(onError)}
                    >
                      Download
                    </button>
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      </ListState>
    </div>
  );
}
