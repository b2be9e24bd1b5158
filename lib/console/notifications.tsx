import { useState } from 'preact/hooks';
import { api, query, type Page } from './api.js';
import { errorUnder, FormActions, useApiForm } from './forms.js';
import { ConfirmDelete, PagedTable, usePaged, useListActions, Notice } from './list.js';
import { described, Field, Time } from './ui.js';

/** The API's event types (domain/notifications.ts); the server refuses any other by name. */
const EVENTS = [
  'job.failed',
  'job.completed',
  'backup.expired',
  'backup.lock-drift',
  'protection.changed',
  'backup.verification-failed',
];

interface Subscription {
  id: string;
  url?: string;
  mnsTopic?: string;
  events: string[];
  createdAt: string;
}

interface Delivery {
  id: string;
  eventType: string;
  status: 'PENDING' | 'DELIVERED' | 'DEAD';
  attempts: { at: string; status: number | null; error: string | null }[];
  nextAttemptAt: string | null;
  deadReason: string | null;
  createdAt: string;
}

/** Subscriptions: who is told of which events, with each one's delivery records. */
export function Notifications() {
  const paged = usePaged<Subscription>(
    (cursor) => api<Page<Subscription>>('GET', `/subscriptions${query({ limit: 20, cursor })}`),
    'subscriptions',
  );
  const { state, act } = useListActions(paged);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ id: string; secret: string } | null>(null);
  const [shown, setShown] = useState<Subscription | null>(null);
  const [deleting, setDeleting] = useState<Subscription | null>(null);
  return (
    <section aria-labelledby="notifications-title">
      <h1 id="notifications-title">Notifications</h1>
      <Notice state={state} />
      {secret ? (
        <div class="panel" role="status" data-testid="secret">
          <p>
            Subscription {secret.id} signs its webhooks with this secret. Copy it now: it is shown only once.
          </p>
          <code>{secret.secret}</code>
          <div class="actions">
            <button type="button" onClick={() => setSecret(null)}>
              I have copied it
            </button>
          </div>
        </div>
      ) : null}
      <button type="button" class="primary" onClick={() => setCreating(true)} disabled={creating}>
        Create subscription
      </button>
      {creating ? (
        <SubscriptionForm
          onClose={(created) => {
            setCreating(false);
            if (!created) return;
            setSecret({ id: created.id, secret: created.secret });
            void act(`Subscription ${created.id} created.`, async () => undefined);
          }}
        />
      ) : null}
      <PagedTable
        paged={paged}
        what="subscriptions"
        empty="No subscription yet."
        caption="Subscriptions"
        columns={['Subscription', 'Sends to', 'Events', 'Created', 'Actions']}
        row={(s) => (
          <tr key={s.id}>
            <td>{s.id}</td>
            <td>{s.url ?? `MNS topic ${s.mnsTopic ?? ''}`}</td>
            <td>{s.events.join(', ')}</td>
            <td>
              <Time iso={s.createdAt} />
            </td>
            <td class="actions">
              <button type="button" onClick={() => setShown(s)}>
                Deliveries
              </button>
              <button type="button" class="danger" onClick={() => setDeleting(s)}>
                Delete
              </button>
            </td>
          </tr>
        )}
      />
      {shown ? <Deliveries subscription={shown} /> : null}
      <ConfirmDelete
        row={deleting}
        title={(s) => `Delete subscription ${s.id}?`}
        confirmLabel="Delete subscription"
        onClose={() => setDeleting(null)}
        onConfirm={(s) => {
          if (shown?.id === s.id) setShown(null);
          void act(`Subscription ${s.id} deleted.`, () => api('DELETE', `/subscriptions/${s.id}`));
        }}
      >
        <p>No more events are sent to it.</p>
      </ConfirmDelete>
    </section>
  );
}

function Deliveries({ subscription }: { subscription: Subscription }) {
  const paged = usePaged<Delivery>(
    (cursor) =>
      api<Page<Delivery>>(
        'GET',
        `/subscriptions/${subscription.id}/deliveries${query({ limit: 20, cursor })}`,
      ),
    subscription.id,
  );
  return (
    <div class="panel">
      <h2>Deliveries of {subscription.id}</h2>
      <PagedTable
        paged={paged}
        what="deliveries"
        empty="Nothing delivered yet."
        caption={`Deliveries of ${subscription.id}`}
        columns={['Event', 'Status', 'Attempts', 'Next attempt', 'Created']}
        row={(d) => {
          const last = d.attempts[d.attempts.length - 1];
          return (
            <tr key={d.id}>
              <td>{d.eventType}</td>
              <td>
                {d.status}
                {d.deadReason ? <div class="hint">{d.deadReason}</div> : null}
              </td>
              <td>
                {d.attempts.length}
                {last ? <div class="hint">last: {last.error ?? `HTTP ${last.status ?? ''}`}</div> : null}
              </td>
              <td>
                <Time iso={d.nextAttemptAt} />
              </td>
              <td>
                <Time iso={d.createdAt} />
              </td>
            </tr>
          );
        }}
      />
    </div>
  );
}

function SubscriptionForm({ onClose }: { onClose(created?: { id: string; secret: string }): void }) {
  const [kind, setKind] = useState<'url' | 'mnsTopic'>('url');
  const [target, setTarget] = useState('');
  const [events, setEvents] = useState<string[]>(['job.failed']);
  const { errors, state, submit } = useApiForm();
  const send = async () =>
    onClose(
      await api<{ id: string; secret: string }>('POST', '/subscriptions', { [kind]: target.trim(), events }),
    );
  const eventsError = errorUnder(errors, 'events');
  return (
    <form class="panel" onSubmit={submit(send)} noValidate aria-label="Create subscription">
      <h2>Create subscription</h2>
      <Field id="sub-kind" label="Send to">
        <select
          id="sub-kind"
          value={kind}
          onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value as 'url')}
        >
          <option value="url">A webhook (URL)</option>
          <option value="mnsTopic">An MNS topic</option>
        </select>
      </Field>
      <Field id="sub-target" label={kind === 'url' ? 'Webhook URL' : 'MNS topic name'} error={errors[kind]}>
        <input
          {...described('sub-target', errors[kind])}
          value={target}
          onInput={(e) => setTarget((e.currentTarget as HTMLInputElement).value)}
        />
      </Field>
      <fieldset>
        <legend>Events</legend>
        {EVENTS.map((ev) => (
          <div class="switch-row" key={ev}>
            <input
              type="checkbox"
              id={`event-${ev}`}
              checked={events.includes(ev)}
              onChange={(e) =>
                setEvents(
                  (e.currentTarget as HTMLInputElement).checked
                    ? [...events, ev]
                    : events.filter((x) => x !== ev),
                )
              }
            />
            <label for={`event-${ev}`}>{ev}</label>
          </div>
        ))}
        {eventsError ? (
          <p class="field-error" role="alert">
            {eventsError}
          </p>
        ) : null}
      </fieldset>
      <FormActions state={state} submitLabel="Subscribe" onCancel={() => onClose()} />
    </form>
  );
}
