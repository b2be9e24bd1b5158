import type { ConsistencyLevel } from '../domain/model.js';

/** What a guest script reported through its `ECSB key=value` lines. Absent or unreadable values are null. */
export interface GuestResult {
  consistency: ConsistencyLevel | null;
  /** Empty string = achieved what was asked. */
  reason: string | null;
  freezeMs: number | null;
  preExit: number | null;
  postExit: number | null;
  snapshotGroupId: string | null;
  snapshotError: { code: string; message: string } | null;
  /** Consistency and a snapshot outcome were both read: the script ran to its end. */
  complete: boolean;
  /** Expected keys that were not found (or not readable). */
  missing: string[];
  /** Other `ECSB` keys, kept for diagnostics. */
  extra: Record<string, string>;
}

const PREFIX = 'ECSB ';
const CORE_KEYS = [
  'consistency',
  'reason',
  'freeze_ms',
  'pre_exit',
  'post_exit',
  'snapshot_group_id',
  'snapshot_error',
] as const;
type CoreKey = (typeof CORE_KEYS)[number];

function isCore(key: string): key is CoreKey {
  return (CORE_KEYS as readonly string[]).includes(key);
}

function parseCount(v: string | undefined): number | null {
  if (v === undefined) return null;
  const t = v.trim();
  return /^-?\d{1,10}$/.test(t) ? Number(t) : null;
}

/**
 * Reads the result lines of a guest script's output. Only lines that start exactly with `ECSB `
 * count (hook output is prefixed by the scripts, so it cannot pass for one); the last occurrence
 * of a key wins, because the script prints its own lines at the very end. Output that was cut
 * (`truncated`, e.g. Cloud Assistant's `Dropped` > 0) never trusts its unterminated last line.
 */
export function parseGuestResult(output: string, options: { truncated?: boolean } = {}): GuestResult {
  const text = typeof output === 'string' ? output : '';
  const lines = text.split('\n');
  if (options.truncated && !text.endsWith('\n')) lines.pop();
  const values = new Map<CoreKey, string>();
  const extra: Record<string, string> = {};
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const clean = line.startsWith('\uFEFF') ? line.slice(1) : line;
    if (!clean.startsWith(PREFIX)) continue;
    const body = clean.slice(PREFIX.length);
    const eq = body.indexOf('=');
    if (eq <= 0) continue;
    const key = body.slice(0, eq);
    if (!/^[a-z][a-z0-9_]*$/.test(key)) continue;
    const value = body.slice(eq + 1);
    if (isCore(key)) values.set(key, value);
    else extra[key] = value;
  }

  const consistencyRaw = values.get('consistency')?.trim();
  const consistency =
    consistencyRaw === 'application' || consistencyRaw === 'filesystem' || consistencyRaw === 'crash'
      ? consistencyRaw
      : null;
  const freezeRaw = values.get('freeze_ms')?.trim();
  const freezeCount = parseCount(freezeRaw);
  const freezeMs = freezeCount !== null && freezeCount >= 0 ? freezeCount : null;
  const groupRaw = values.get('snapshot_group_id')?.trim();
  const snapshotGroupId = groupRaw !== undefined && /^ssg-[A-Za-z0-9]+$/.test(groupRaw) ? groupRaw : null;
  const errorRaw = values.get('snapshot_error')?.trim();
  let snapshotError: GuestResult['snapshotError'] = null;
  if (errorRaw !== undefined && errorRaw !== '') {
    const sep = errorRaw.indexOf(': ');
    snapshotError =
      sep > 0
        ? { code: errorRaw.slice(0, sep).trim(), message: errorRaw.slice(sep + 2).trim() }
        : { code: errorRaw, message: '' };
  }

  const result: GuestResult = {
    consistency,
    reason: values.has('reason') ? values.get('reason')!.trim() : null,
    freezeMs,
    preExit: parseCount(values.get('pre_exit')),
    postExit: parseCount(values.get('post_exit')),
    snapshotGroupId,
    snapshotError,
    complete: false,
    missing: [],
    extra,
  };
  const readable: Record<CoreKey, boolean> = {
    consistency: consistency !== null,
    reason: result.reason !== null,
    freeze_ms: freezeMs !== null || freezeRaw === 'none',
    pre_exit: result.preExit !== null || values.get('pre_exit')?.trim() === 'none',
    post_exit: result.postExit !== null || values.get('post_exit')?.trim() === 'none',
    snapshot_group_id: snapshotGroupId !== null,
    snapshot_error: snapshotError !== null,
  };
  result.missing = CORE_KEYS.filter((k) => !readable[k]);
  // One of the two snapshot outcomes is expected, never both.
  if (snapshotGroupId !== null || snapshotError !== null) {
    result.missing = result.missing.filter((k) => k !== 'snapshot_group_id' && k !== 'snapshot_error');
  }
  result.complete = consistency !== null && (snapshotGroupId !== null || snapshotError !== null);
  return result;
}
