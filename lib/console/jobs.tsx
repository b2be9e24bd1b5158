import { useState } from 'preact/hooks';
import { api, query, type Page } from './api.js';
import { useLive } from './live.js';
import { TERMINAL, type Job, type Mount } from './types.js';
import { operatorZone, Progress, Time } from './ui.js';
import { PagedTable, usePaged, useListActions, Notice } from './list.js';
import { wallTimeToIso } from './zoned.js';

const TYPES = ['backup', 'restore', 'mount', 'unmount', 'export', 'copy'];
const STATUSES = ['CREATED', 'QUEUED', 'RUNNING', 'CANCELING', ...TERMINAL];

interface Filter {
  type: string;
  status: string;
  instanceId: string;
  from: string;
  to: string;
}

/** Jobs with live progress (see `useLive`), filters, Cancel and Unmount. */
export function Jobs() {
  const [filter, setFilter] = useState<Filter>({ type: '', status: '', instanceId: '', from: '', to: '' });
  const [applied, setApplied] = useState(filter);
  const paged = usePaged<Job>(
    (cursor) =>
      api<Page<Job>>(
        'GET',
        `/jobs${query({
          limit: 20,
          cursor,
          type: applied.type,
          status: applied.status,
          instanceId: applied.instanceId.trim(),
          from: applied.from ? wallTimeToIso(applied.from, operatorZone) : undefined,
          to: applied.to ? wallTimeToIso(applied.to, operatorZone) : undefined,
        })}`,
      ),
    JSON.stringify(applied),
  );
  const [mounts, setMounts] = useState<Mount[]>([]);
  const kick = useLive(
    paged.reload,
    JSON.stringify(paged.items?.map((j) => [j.id, j.status, j.progress, j.step])),
    paged.items?.some((j) => !TERMINAL.includes(j.status)) ?? false,
    async () => {
      try {
        setMounts((await api<Page<Mount>>('GET', '/mounts?limit=100')).items);
      } catch {
        // The list of jobs is what this screen is for; a failed mounts read only hides Unmount.
      }
    },
  );

  const { state, act } = useListActions(paged, kick);
  const field = (k: keyof Filter) => (e: Event) =>
    setFilter({ ...filter, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(filter);
        }}
        aria-label="Filter jobs"
      >
        <label for="f-type">Type</label>
        <select id="f-type" value={filter.type} onChange={field('type')}>
          <option value="">any</option>
          {TYPES.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <label for="f-status">Status</label>
        <select id="f-status" value={filter.status} onChange={field('status')}>
          <option value="">any</option>
          {STATUSES.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <label for="f-instance">Instance</label>
        <input id="f-instance" value={filter.instanceId} onInput={field('instanceId')} placeholder="i-…" />
        <label for="f-from">Created from</label>
        <input id="f-from" type="datetime-local" step={1} value={filter.from} onInput={field('from')} />
        <label for="f-to">until</label>
        <input id="f-to" type="datetime-local" step={1} value={filter.to} onInput={field('to')} />
        <button type="submit">Apply filters</button>
      </form>
      <Notice state={state} />
      <PagedTable
        paged={paged}
        what="jobs"
        empty="No jobs match."
        caption="Jobs"
        columns={['Job', 'Instance', 'Status', 'Progress', 'Consistency', 'Created', 'Actions']}
        row={(j) => {
          const mounted = j.type === 'mount' && mounts.some((m) => m.jobId === j.id && m.unmount === null);
          return (
            <tr key={j.id} data-job={j.id} data-type={j.type} data-status={j.status}>
              <td>
                <strong>{j.type}</strong>
                <div class="hint">{j.id}</div>
              </td>
              <td>{j.instanceId}</td>
              <td class="status">
                {j.status}
                {j.reason ? <div class="hint">{j.reason}</div> : null}
              </td>
              <td>
                <Progress value={j.progress} label={`${j.type} ${j.id} progress`} />
                <div class="hint">
                  {j.progress}% · {j.step}
                </div>
              </td>
              <td>
                {j.consistency ? (
                  <>
                    {j.consistency.achieved ??
                      `expected ${j.consistency.expected ?? j.consistency.requested}`}
                    {j.consistency.reason ? <div class="hint">{j.consistency.reason}</div> : null}
                    {j.consistency.freezeWindowMs !== null ? (
                      <div class="hint">freeze window {j.consistency.freezeWindowMs} ms</div>
                    ) : null}
                  </>
                ) : (
                  '—'
                )}
              </td>
              <td>
                <Time iso={j.createdAt} />
              </td>
              <td class="actions">
                {!TERMINAL.includes(j.status) && !j.cancelRequested ? (
                  <button
                    type="button"
                    onClick={() =>
                      void act(`Cancel of ${j.id} requested.`, () => api('POST', `/jobs/${j.id}/cancel`))
                    }
                  >
                    Cancel
                  </button>
                ) : null}
                {mounted ? (
                  <button
                    type="button"
                    onClick={() =>
                      void act(`Unmount of ${j.id} started.`, () => api('POST', `/mounts/${j.id}/unmount`))
                    }
                  >
                    Unmount
                  </button>
                ) : null}
              </td>
            </tr>
          );
        }}
      />
    </section>
  );
}
