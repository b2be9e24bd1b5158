import type { Backup } from './types.js';
import { Time } from './ui.js';

/**
 * Why a backup cannot be deleted now, or null. A lock holds until the backup's effective expiry
 * (a long-term keep extends it); the API refuses the delete, so the console says why up front.
 */
export function lockedReason(b: Backup, now = Date.now()): string | null {
  if (!b.lock || now >= Date.parse(b.effectiveExpireAt)) return null;
  const until = new Date(b.effectiveExpireAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return b.lock.mode === 'compliance'
    ? `Locked (compliance) until ${until}: no one can delete it before then.`
    : `Locked (governance) until ${until}: only the break-glass token can delete it before then.`;
}

/** The regions a clone can start from: copies that completed. */
export function copyRegions(b: Backup): string[] {
  return (b.copies ?? []).filter((c) => c.status === 'available').map((c) => c.regionId);
}

/** Lock, copies and the latest restore test of one backup, as one table cell. */
export function BackupFacts({ b }: { b: Backup }) {
  const copies = b.copies ?? [];
  return (
    <td class="facts">
      {b.lock ? (
        <div data-testid={`lock-${b.id}`}>
          Locked ({b.lock.mode}) until <Time iso={b.effectiveExpireAt} />
        </div>
      ) : null}
      {copies.length > 0 ? (
        <ul class="copies" aria-label={`Copies of ${b.id}`}>
          {copies.map((c) => (
            <li key={c.regionId}>
              {c.regionId}: {c.status}
              {c.expireAt ? (
                <>
                  , expires <Time iso={c.expireAt} />
                </>
              ) : null}
              {c.reason ? <div class="hint">{c.reason}</div> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {b.verification ? (
        <div data-testid={`verification-${b.id}`}>
          Verification {b.verification.status} <Time iso={b.verification.at} />
          {b.verification.reason ? <div class="hint">{b.verification.reason}</div> : null}
        </div>
      ) : (
        <div class="hint">Never verified</div>
      )}
    </td>
  );
}
