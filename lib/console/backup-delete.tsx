import { useState } from 'preact/hooks';
import { api, ApiError, query } from './api.js';
import type { Backup } from './types.js';
import { lockedReason } from './backup-facts.js';
import { Confirm, ErrorText, useAction } from './ui.js';

const LAST_GOOD = 'last-good-backup';

/**
 * Deletes a backup after a confirmation. The instance's only good backup takes a second, explicit
 * one: the API refuses it (409) unless asked with `?confirm=last-good-backup`, as the CLI's
 * `backups rm --confirm-last-good` does, and the console says why before asking.
 */
export function DeleteBackup({ backup, onClose }: { backup: Backup; onClose(message?: string): void }) {
  const [lastGood, setLastGood] = useState<string | null>(null);
  const [run, state] = useAction();
  const remove = (confirm?: string) =>
    run(async () => {
      try {
        await api('DELETE', `/backups/${backup.id}${query({ confirm })}`);
        onClose(`Backup ${backup.id} is being deleted.`);
      } catch (err) {
        const asksConfirm = err instanceof ApiError && err.status === 409 && err.detail.includes(LAST_GOOD);
        if (!asksConfirm || confirm !== undefined) throw err;
        setLastGood(err.detail.replace(/ To delete it anyway.*$/, ''));
      }
    });
  return (
    <Confirm
      title={lastGood ? `${backup.id} is the only good backup` : `Delete backup ${backup.id}?`}
      confirmLabel={lastGood ? 'Delete the last good backup' : 'Delete backup'}
      onCancel={() => onClose()}
      onConfirm={() => void remove(lastGood ? LAST_GOOD : undefined)}
    >
      <p>{lastGood ?? 'Its snapshots are deleted; nothing can be restored from it afterwards.'}</p>
      <ErrorText error={state.error} />
    </Confirm>
  );
}

/** Delete, disabled while the backup is locked with the reason beside it (and read with the button). */
export function DeleteButton({
  b,
  available,
  onDelete,
}: {
  b: Backup;
  available: boolean;
  onDelete(): void;
}) {
  const locked = lockedReason(b);
  return (
    <>
      <button
        type="button"
        class="danger"
        disabled={!available || locked !== null}
        title={locked ?? undefined}
        aria-describedby={locked ? `locked-${b.id}` : undefined}
        onClick={onDelete}
      >
        Delete
      </button>
      {locked ? (
        <p class="hint" id={`locked-${b.id}`} data-testid={`locked-reason-${b.id}`}>
          {locked}
        </p>
      ) : null}
    </>
  );
}
