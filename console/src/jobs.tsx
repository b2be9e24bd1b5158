import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query, type Page } from './api.js';
import { TERMINAL, type Job, type Mount } from './types.js';
import { ErrorText, ListState, operatorZone, Progress, Time, useAction, usePaged } from './ui.js';
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

/**
 * Jobs with live progress: the page polls every second while a job on it is still running,
 * backing off to 15 s while nothing changes, and snaps back to 1 s after an action.
 */
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
  const [run, state] = useAction();
  const delay = useRef(1000);
  const last = useRef('');
  const [kick, setKick] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      await paged.reload(true);
      try {
        setMounts((await api<Page<Mount>>('GET', '/mounts?limit=100')).items);
      } catch {
        // The list of jobs is what this screen is for; a failed mounts read only hides Unmount.
      }
      if (!stopped) timer = setTimeout(() => void tick(), delay.current);
    };
    timer = setTimeout(() => void tick(), delay.current);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [paged.reload, kick]);

  useEffect(() => {
    const snapshot = JSON.stringify(paged.items?.map((j) => [j.id, j.status, j.progress, j.step]));
    const running = paged.items?.some((j) => !TERMINAL.includes(j.status)) ?? false;
    delay.current =
      running && snapshot !== last.current ? 1000 : Math.min(delay.current * 2, running ? 4000 : 15_000);
    last.current = snapshot;
  }, [paged.items]);

  const act = (label: string, fn: () => Promise<unknown>) =>
    run(async () => {
      await fn();
      state.setMessage(label);
      delay.current = 1000;
      setKick((k) => k + 1);
    });
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
      {state.message ? (
        <p role="status" class="ok">
          {state.message}
        </p>
      ) : null}
      <ErrorText error={state.error} />
      <ListState paged={paged} what="jobs" empty="No jobs match.">
        {(items) => (
          <div
            class="table-wrap"
            tabIndex={0}
            role="region"
            aria-label="Table (scrolls sideways on small screens)"
          >
            <table>
              <caption class="sr-only">Jobs</caption>
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Instance</th>
                  <th scope="col">Status</th>
                  <th scope="col">Progress</th>
                  <th scope="col">Consistency</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {items.map((j) => {
                  const mounted =
                    j.type === 'mount' && mounts.some((m) => m.jobId === j.id && m.unmount === null);
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
                              void act(`Cancel of ${j.id} requested.`, () =>
                                api('POST', `/jobs/${j.id}/cancel`),
                              )
                            }
                          >
                            Cancel
                          </button>
                        ) : null}
                        {mounted ? (
                          <button
                            type="button"
                            onClick={() =>
                              void act(`Unmount of ${j.id} started.`, () =>
                                api('POST', `/mounts/${j.id}/unmount`),
                              )
                            }
                          >
                            Unmount
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
    </section>
  );
}
