import { describe, expect, it } from 'vitest';
import { copyRegions, lockedReason } from '../../../lib/console/backup-facts.js';
import { extrasBody, initialExtras } from '../../../lib/console/plan-extras.js';
import { cloneBody, initialClone } from '../../../lib/console/restore-clone.js';
import type { Backup, Plan } from '../../../lib/console/types.js';

const NOW = Date.parse('2026-12-07T00:00:00Z');

function backup(patch: Partial<Backup> = {}): Backup {
  return {
    id: 'bk-1',
    instanceId: 'i-1',
    planId: null,
    status: 'AVAILABLE',
    snapshots: [],
    consistency: { requested: 'crash', achieved: 'crash', reason: null },
    completedAt: '2026-12-01T00:00:00.000Z',
    expireAt: '2026-12-10T00:00:00.000Z',
    longTermRule: null,
    effectiveExpireAt: '2026-12-20T00:00:00.000Z',
    inUseBy: [],
    ...patch,
  };
}

describe('what the console sends and says for the API fields it caught up with', () => {
  it('gives a lock reason until the effective expiry, by mode, and none after or without a lock', () => {
    const lockedAt = '2026-12-01T00:00:00.000Z';
    expect(lockedReason(backup(), NOW)).toBeNull();
    expect(lockedReason(backup({ lock: { mode: 'compliance', lockedAt } }), NOW)).toBe(
      'Locked (compliance) until 2026-12-20T00:00:00Z: no one can delete it before then.',
    );
    expect(lockedReason(backup({ lock: { mode: 'governance', lockedAt } }), NOW)).toMatch(/break-glass/);
    const after = Date.parse('2026-12-20T00:00:00Z');
    expect(lockedReason(backup({ lock: { mode: 'compliance', lockedAt } }), after)).toBeNull();
  });

  it('offers only completed copies as clone sources, and a COPIES_ONLY backup starts on its first', () => {
    const copy = (regionId: string, status: 'available' | 'copying') => ({
      regionId,
      jobId: 'j',
      status,
      expireAt: null,
      reason: null,
    });
    const b = backup({
      status: 'COPIES_ONLY',
      copies: [copy('cn-beijing', 'copying'), copy('cn-shanghai', 'available')],
    });
    expect(copyRegions(b)).toEqual(['cn-shanghai']);
    expect(initialClone(b, copyRegions(b)).regionId).toBe('cn-shanghai');
    expect(initialClone(backup(), ['cn-shanghai']).regionId).toBe('');
  });

  it('leaves empty clone fields out and splits the security groups', () => {
    const v = {
      regionId: 'cn-shanghai',
      instanceType: ' ecs.g7.large ',
      vSwitchId: '',
      securityGroupIds: 'sg-aaaa1111, sg-bbbb2222 ',
      instanceName: '',
    };
    expect(cloneBody(v, true)).toEqual({
      regionId: 'cn-shanghai',
      instanceType: 'ecs.g7.large',
      securityGroupIds: ['sg-aaaa1111', 'sg-bbbb2222'],
    });
    // clone-disk takes the region only.
    expect(cloneBody(v, false)).toEqual({ regionId: 'cn-shanghai' });
  });

  it('sends copies, lock and verify when set, and null to turn them off only in a change', () => {
    const off = initialExtras();
    expect(extrasBody(off, false)).toEqual({});
    expect(extrasBody(off, true)).toEqual({ copies: null, lock: null, verify: null });
    const plan = {
      copies: [{ regionId: 'cn-shanghai', retention: { value: 30, unit: 'days' } }],
      lock: { mode: 'governance' },
      verify: { every: 3 },
    } as unknown as Plan;
    expect(extrasBody(initialExtras(plan), true)).toEqual({
      copies: plan.copies,
      lock: { mode: 'governance' },
      verify: { every: 3 },
    });
  });
});
