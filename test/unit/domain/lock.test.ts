import { describe, expect, it } from 'vitest';
import { decideLock, strengthenLock, type BackupLock, type LockAction } from '../../../lib/domain/lock.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const lock = (mode: BackupLock['mode']): BackupLock => ({ mode, lockedAt: NOW - DAY, overrides: [] });
const point = (l: BackupLock | undefined, expireAt = NOW + 10 * DAY, effective = expireAt) => ({
  lock: l,
  expireAt,
  effectiveExpireAt: effective,
});

describe('decideLock', () => {
  it.each<{
    name: string;
    lock: BackupLock | undefined;
    action: LockAction;
    breakGlass?: boolean;
    effective?: number;
    allowed: boolean;
    override?: boolean;
    field?: string | null;
  }>([
    { name: 'no lock: delete goes', lock: undefined, action: { kind: 'delete' }, allowed: true },
    {
      name: 'compliance: delete before expiry refused',
      lock: lock('compliance'),
      action: { kind: 'delete' },
      allowed: false,
      field: null,
    },
    {
      name: 'compliance: the break-glass token changes nothing',
      lock: lock('compliance'),
      action: { kind: 'delete' },
      breakGlass: true,
      allowed: false,
    },
    {
      name: 'governance: delete refused without the token',
      lock: lock('governance'),
      action: { kind: 'delete' },
      allowed: false,
    },
    {
      name: 'governance: delete with the token is an override',
      lock: lock('governance'),
      action: { kind: 'delete' },
      breakGlass: true,
      allowed: true,
      override: true,
    },
    {
      name: 'compliance: a long-term keep extends the lock past expireAt',
      lock: lock('compliance'),
      action: { kind: 'delete' },
      effective: NOW + 400 * DAY,
      allowed: false,
    },
    {
      name: 'compliance: shortening names expireAt',
      lock: lock('compliance'),
      action: { kind: 'shorten', expireAt: NOW + 5 * DAY },
      allowed: false,
      field: 'expireAt',
    },
    {
      name: 'compliance: lengthening is allowed',
      lock: lock('compliance'),
      action: { kind: 'shorten', expireAt: NOW + 20 * DAY },
      allowed: true,
      override: false,
    },
    {
      name: 'governance: shortening with the token is an override',
      lock: lock('governance'),
      action: { kind: 'shorten', expireAt: NOW + DAY },
      breakGlass: true,
      allowed: true,
      override: true,
    },
  ])('$name', (row) => {
    const p = point(row.lock, NOW + 10 * DAY, row.effective ?? NOW + 10 * DAY);
    const decision = decideLock(p, row.action, NOW, row.breakGlass ?? false);
    expect(decision.allowed).toBe(row.allowed);
    if (decision.allowed && row.override !== undefined) expect(decision.override).toBe(row.override);
    if (!decision.allowed) {
      expect(decision.reason).toMatch(row.lock!.mode);
      if (row.field !== undefined) expect(decision.field).toBe(row.field);
    }
  });

  it('a lock ends at the effective expiry: deleting then is no override', () => {
    const p = point(lock('compliance'), NOW - 1, NOW - 1);
    expect(decideLock(p, { kind: 'delete' }, NOW, false)).toEqual({ allowed: true, override: false });
  });
});

describe('strengthenLock', () => {
  it('locks an unlocked backup at now', () => {
    expect(strengthenLock(undefined, { mode: 'governance' }, NOW)).toEqual({
      lock: { mode: 'governance', lockedAt: NOW, overrides: [] },
    });
  });
  it('governance becomes compliance, keeping when it was locked and its overrides', () => {
    const current = { ...lock('governance'), overrides: [{ action: 'delete' as const, at: NOW }] };
    expect(strengthenLock(current, { mode: 'compliance' }, NOW)).toEqual({
      lock: { ...current, mode: 'compliance' },
    });
  });
  it('compliance never becomes governance', () => {
    expect(strengthenLock(lock('compliance'), { mode: 'governance' }, NOW)).toEqual({
      reason: 'a compliance lock cannot be changed to governance',
    });
  });
  it('the same mode again changes nothing', () => {
    const current = lock('compliance');
    expect(strengthenLock(current, { mode: 'compliance' }, NOW)).toEqual({ lock: current });
  });
});
