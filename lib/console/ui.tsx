import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Page } from './api.js';

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const local = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'medium',
  timeZone: zone,
});

/** An instant in the operator's zone; the UTC time on hover and for screen readers' datetime. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (iso === null || iso === undefined) return <span>—</span>;
  const d = new Date(iso);
  return (
    <time dateTime={d.toISOString()} title={`${d.toISOString().replace('.000Z', 'Z')} UTC`}>
      {local.format(d)}
    </time>
  );
}

export const operatorZone = zone;

export function Loading({ what }: { what: string }) {
  return (
    <p class="state" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function ErrorText({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  const text =
    error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

export interface Paged<T> {
  items: T[] | null;
  error: unknown;
  loading: boolean;
  hasNext: boolean;
  hasPrev: boolean;
  next(): void;
  prev(): void;
  reload(quiet?: boolean): Promise<void>;
}

/**
 * One page of a list at a time, with the cursors walked so far kept for Previous. `key` restarts
 * at the first page (a changed filter).
 */
export function usePaged<T>(load: (cursor: string | undefined) => Promise<Page<T>>, key: string): Paged<T> {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<Page<T> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const cursor = cursors[cursors.length - 1];

  const reload = useCallback(
    async (quiet = false) => {
      if (!quiet) setLoading(true);
      try {
        setPage(await loadRef.current(cursor));
        setError(null);
      } catch (err) {
        setError(err);
      } finally {
        setLoading(false);
      }
    },
    [cursor],
  );
  useEffect(() => setCursors([undefined]), [key]);
  useEffect(() => {
    void reload();
  }, [reload, key]);
  return {
    items: page?.items ?? null,
    error,
    loading,
    hasNext: page?.nextCursor !== null && page?.nextCursor !== undefined,
    hasPrev: cursors.length > 1,
    next: () => page?.nextCursor && setCursors([...cursors, page.nextCursor]),
    prev: () => setCursors(cursors.slice(0, -1)),
    reload,
  };
}

export function Pager({ paged, label }: { paged: Paged<unknown>; label: string }) {
  if (!paged.hasNext && !paged.hasPrev) return null;
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" disabled={!paged.hasPrev} onClick={paged.prev}>
        Previous page
      </button>
      <button type="button" disabled={!paged.hasNext} onClick={paged.next}>
        Next page
      </button>
    </nav>
  );
}

/** Loading, error and empty states of a paged list around its content. */
export function ListState<T>({
  paged,
  what,
  empty,
  children,
}: {
  paged: Paged<T>;
  what: string;
  empty: ComponentChildren;
  children: (items: T[]) => ComponentChildren;
}) {
  if (paged.items === null && paged.error === null) return <Loading what={what} />;
  return (
    <>
      <ErrorText error={paged.error} />
      {paged.items !== null && paged.items.length === 0 ? <Empty>{empty}</Empty> : null}
      {paged.items !== null && paged.items.length > 0 ? children(paged.items) : null}
      <Pager paged={paged as Paged<unknown>} label={what} />
    </>
  );
}

/** A labelled form control with its server field error beneath it (aria-describedby). */
export function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: ComponentChildren;
  children: ComponentChildren;
}) {
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      {children}
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p class="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** aria attributes tying a control to its hint and error. */
export function described(id: string, error: string | undefined, hint = false) {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter((s) => s !== '').join(' ');
  return { id, 'aria-invalid': error ? true : undefined, 'aria-describedby': ids === '' ? undefined : ids };
}

/** Runs an action, keeping its error for display and a busy flag for the button. */
export function useAction(): [
  (fn: () => Promise<unknown>) => Promise<boolean>,
  { busy: boolean; error: unknown; message: string | null; setMessage(m: string | null): void },
] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return [run, { busy, error, message, setMessage }];
}

/** A modal confirmation on the native <dialog> (focus trapped, Escape cancels). */
export function Confirm({
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm(): void;
  onCancel(): void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={onCancel}>
      <h2 id="confirm-title">{title}</h2>
      {children}
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function Progress({ value, label }: { value: number; label: string }) {
  return (
    <progress max={100} value={value} aria-label={label}>
      {value}%
    </progress>
  );
}
