import { useMemo, useState } from 'preact/hooks';
import { api, ApiError, query, type Page } from './api.js';
import { initialPlanForm, planBody, PlanForm, type PlanFormValue } from './plan-form.js';
import type { Instance, Job, Plan } from './types.js';
import { ErrorText } from './ui.js';
import { PagedTable, usePaged } from './list.js';

/** "Add ECS Instance": choose the instance, its disks, then the plan (or one backup now). */
export function Wizard({ go }: { go(screen: string): void }) {
  const [search, setSearch] = useState('');
  const paged = usePaged<Instance>(
    (cursor) => api<Page<Instance>>('GET', `/instances${query({ limit: 20, cursor })}`),
    'instances',
  );
  const [chosen, setChosen] = useState<Instance | null>(null);
  const [allDisks, setAllDisks] = useState(true);
  const [disks, setDisks] = useState<string[]>([]);
  const [form, setForm] = useState<PlanFormValue>(() => initialPlanForm());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const placeholder = useMemo(() => `plan-${Math.random().toString(36).slice(2, 8)}`, []);

  const match = (i: Instance) => {
    const q = search.trim().toLowerCase();
    return (
      q === '' ||
      [i.instanceId, i.name, i.zoneId, i.osType, i.osName].some((s) => s.toLowerCase().includes(q))
    );
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (chosen === null) return;
    setBusy(true);
    setErrors({});
    setFailure(null);
    try {
      const res = await api<{ plan: Plan | null; job: Job | null }>('POST', '/protected-instances', {
        instanceId: chosen.instanceId,
        disks: allDisks ? 'all' : disks,
        plan: planBody(form),
      });
      setDone(
        res.plan?.schedule
          ? `Protected ${chosen.instanceId} with plan ${res.plan.name}.`
          : `Protected ${chosen.instanceId}; backup job ${res.job?.id ?? ''} started.`,
      );
    } catch (err) {
      if (err instanceof ApiError) setErrors(err.fieldErrors());
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  if (done !== null) {
    return (
      <section aria-labelledby="wizard-title">
        <h1 id="wizard-title">Add ECS Instance</h1>
        <p role="status" class="ok">
          {done}
        </p>
        <button type="button" onClick={() => go('protected')}>
          Go to Protected ECS Instances
        </button>{' '}
        <button type="button" onClick={() => go('jobs')}>
          Go to Jobs
        </button>
      </section>
    );
  }

  return (
    <section aria-labelledby="wizard-title">
      <h1 id="wizard-title">Add ECS Instance</h1>
      <h2>1. Choose the instance</h2>
      <label for="instance-search">Search by id, name, zone or OS</label>
      <input
        id="instance-search"
        type="search"
        value={search}
        onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
      />
      <PagedTable
        paged={paged}
        what="instances"
        empty="No ECS instances in this region."
        caption="ECS instances"
        columns={['Choose', 'Instance', 'Zone / OS', 'Status', 'Disks', 'Cloud Assistant', 'Protected']}
        row={(i) => (
          <tr key={i.instanceId} class={chosen?.instanceId === i.instanceId ? 'selected' : ''}>
            <td>
              <input
                type="radio"
                name="instance"
                id={`pick-${i.instanceId}`}
                aria-label={`Choose ${i.instanceId}`}
                checked={chosen?.instanceId === i.instanceId}
                disabled={i.protection.protected}
                onChange={() => {
                  setChosen(i);
                  setDisks(i.disks.map((d) => d.diskId));
                }}
              />
            </td>
            <td>
              <strong>{i.instanceId}</strong>
              <br />
              {i.name}
            </td>
            <td>
              {i.zoneId}
              <br />
              {i.osName}
            </td>
            <td>{i.status}</td>
            <td>
              {i.disks.map((d) => (
                <div key={d.diskId}>
                  {d.diskId} ({d.type}, {d.category}, {d.sizeGiB} GiB)
                </div>
              ))}
            </td>
            <td>{i.cloudAssistant}</td>
            <td>{i.protection.protected ? `yes (${i.protection.planName ?? 'no plan'})` : 'no'}</td>
          </tr>
        )}
        filter={(items) => items.filter(match)}
        noMatch={<>No instance on this page matches “{search}”.</>}
      />
      {chosen ? (
        <form onSubmit={submit} noValidate>
          <h2>2. Disks of {chosen.instanceId}</h2>
          <div class="switch-row">
            <input
              type="checkbox"
              role="switch"
              id="all-disks"
              checked={allDisks}
              onChange={(e) => setAllDisks((e.currentTarget as HTMLInputElement).checked)}
            />
            <label for="all-disks">Protect All Disks</label>
            <span class="hint">
              {allDisks ? 'Disks attached later are protected too.' : 'Only the disks ticked below.'}
            </span>
          </div>
          {allDisks ? null : (
            <fieldset>
              <legend>Disks to protect</legend>
              {chosen.disks.map((d) => (
                <div class="switch-row" key={d.diskId}>
                  <input
                    type="checkbox"
                    id={`disk-${d.diskId}`}
                    checked={disks.includes(d.diskId)}
                    onChange={(e) =>
                      setDisks(
                        (e.currentTarget as HTMLInputElement).checked
                          ? [...disks, d.diskId]
                          : disks.filter((x) => x !== d.diskId),
                      )
                    }
                  />
                  <label for={`disk-${d.diskId}`}>
                    {d.diskId} ({d.type}, {d.category}, {d.sizeGiB} GiB)
                  </label>
                </div>
              ))}
              {errors.disks ? (
                <p class="field-error" role="alert">
                  {errors.disks}
                </p>
              ) : null}
            </fieldset>
          )}
          <h2>3. Plan</h2>
          <PlanForm
            value={form}
            onChange={setForm}
            errors={errors}
            os={chosen.osType}
            placeholder={placeholder}
          />
          <ErrorText error={failure} />
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Protecting…' : form.onSchedule ? 'Protect on schedule' : 'Protect and back up now'}
          </button>
        </form>
      ) : (
        <p class="hint">Choose an instance to go on.</p>
      )}
    </section>
  );
}
