/**
 * Every list of the console is one of these: a page at a time with Previous/Next, its loading,
 * error and empty states in words, and (as a table) a region that scrolls sideways on a phone.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from './api.js';
import { Confirm, Empty, ErrorText, Loading, useAction } from './ui.js';

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

/** A paged list drawn as a table: one header per column, `row` draws each item's `<tr>`. */
export function PagedTable<T>({
  paged,
  what,
  empty,
  caption,
  columns,
  row,
  filter,
  noMatch,
}: {
  paged: Paged<T>;
  what: string;
  empty: ComponentChildren;
  caption: string;
  columns: string[];
  row(item: T): ComponentChildren;
  /** Narrows the page on the client (a search box); `noMatch` says when nothing is left. */
  filter?: (items: T[]) => T[];
  noMatch?: ComponentChildren;
}) {
  return (
    <ListState paged={paged} what={what} empty={empty}>
      {(items) => {
        const shown = filter ? filter(items) : items;
        if (shown.length === 0) return <Empty>{noMatch}</Empty>;
        return (
          <div
            class="table-wrap"
            tabIndex={0}
            role="region"
            aria-label="Table (scrolls sideways on small screens)"
          >
            <table>
              <caption class="sr-only">{caption}</caption>
              <thead>
                <tr>
                  {columns.map((c) => (
                    <th scope="col" key={c}>
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>{shown.map(row)}</tbody>
            </table>
          </div>
        );
      }}
    </ListState>
  );
}

export type ListAction = (label: string, fn: () => Promise<unknown>) => Promise<boolean>;

/**
 * The actions of a list's rows: `act` runs one, says `label` when it worked and reloads the page
 * quietly (then `after`, e.g. to speed up polling); `Notice` shows that message or the error.
 */
export function useListActions(paged: { reload(quiet?: boolean): Promise<void> }, after?: () => void) {
  const [run, state] = useAction();
  const act: ListAction = (label, fn) =>
    run(async () => {
      await fn();
      state.setMessage(label);
      await paged.reload(true);
      after?.();
    });
  return { run, state, act };
}

export function Notice({ state }: { state: { message: string | null; error: unknown } }) {
  return (
    <>
      {state.message ? (
        <p role="status" class="ok">
          {state.message}
        </p>
      ) : null}
      <ErrorText error={state.error} />
    </>
  );
}

/**
 * A row's deletion, asked first: shown while `row` is set. Cancelling or confirming closes it
 * (`onClose`); confirming then runs `onConfirm` with the row.
 */
export function ConfirmDelete<T>({
  row,
  title,
  confirmLabel,
  onClose,
  onConfirm,
  children,
}: {
  row: T | null;
  title(row: T): string;
  confirmLabel: string;
  onClose(): void;
  onConfirm(row: T): void;
  children: ComponentChildren;
}) {
  if (row === null) return null;
  return (
    <Confirm
      title={title(row)}
      confirmLabel={confirmLabel}
      onCancel={onClose}
      onConfirm={() => {
        onClose();
        onConfirm(row);
      }}
    >
      {children}
    </Confirm>
  );
}
