import { afterEach, describe, expect, it } from 'vitest';
import { aPoint, dailyPlan, DAY } from './fixtures.js';
import { startHarness, T0, type Harness } from './harness.js';

/** Backup lock through the API: every way of deleting or shortening is refused; governance has a break glass. */

const I = 'i-lock00001';
const BREAK_GLASS = 'break-glass-0123456789abcdef';
const HEADER = 'x-ecs-backup-break-glass';
let h: Harness;
afterEach(async () => h?.close());

async function start(env: Record<string, string> = { BREAK_GLASS_TOKEN: BREAK_GLASS }) {
  h = await startHarness({
    seed: {
      instances: [
        { instanceId: I, disks: [{ diskId: 'd-lock00001', type: 'system', category: 'cloud_essd' }] },
      ],
    },
    env,
  });
}

const lockAt = T0 - DAY;
async function addLocked(id: string, mode: 'compliance' | 'governance') {
  await h.store.points.create(aPoint({ id, instanceId: I, lock: { mode, lockedAt: lockAt, overrides: [] } }));
  // A second good backup, so the last-good-backup rule is not what refuses.
  await h.store.points.create(aPoint({ id: `${id}-other`, instanceId: I }));
}
const iso = (t: number) => new Date(t).toISOString();

describe('a compliance lock', () => {
  it('refuses DELETE (with confirm and a valid break-glass token too) and an earlier expiry; nothing changes', async () => {
    await start();
    await addLocked('pt-c1', 'compliance');
    const before = h.dump();
    for (const options of [
      {},
      { query: { confirm: 'last-good-backup' } },
      { headers: { [HEADER]: BREAK_GLASS } },
    ]) {
      const r = await h.call('DELETE', '/api/v1/backups/pt-c1', options);
      expect(r.status, r.text).toBe(409);
      expect(r.body.detail).toMatch(/locked in compliance mode.*no override/);
    }
    const earlier = await h.call('PATCH', '/api/v1/backups/pt-c1', {
      body: { expireAt: iso(T0 + DAY) },
      headers: { [HEADER]: BREAK_GLASS },
    });
    expect(earlier.status, earlier.text).toBe(409);
    expect(earlier.body.errors[0].path).toBe('expireAt');
    const weaker = await h.call('PATCH', '/api/v1/backups/pt-c1', { body: { lock: { mode: 'governance' } } });
    expect(weaker.status).toBe(409);
    expect(weaker.body.errors[0].path).toBe('lock.mode');
    expect(h.dump()).toEqual(before);
  });

  it('lets the expiry move later, and shows the lock on the backup', async () => {
    await start();
    await addLocked('pt-c2', 'compliance');
    const later = iso(T0 + 90 * DAY);
    const r = await h.call('PATCH', '/api/v1/backups/pt-c2', { body: { expireAt: later } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.expireAt).toBe(later);
    expect(r.body.lock).toEqual({ mode: 'compliance', lockedAt: iso(lockAt), overrides: [] });
  });
});

describe('a governance lock', () => {
  it('refuses without the header, refuses a wrong token (401), and yields to the right one, recording it', async () => {
    await start();
    await addLocked('pt-g1', 'governance');
    const before = h.dump();
    const plain = await h.call('DELETE', '/api/v1/backups/pt-g1');
    expect(plain.status).toBe(409);
    expect(plain.body.detail).toContain(HEADER);
    const wrong = await h.call('DELETE', '/api/v1/backups/pt-g1', {
      headers: { [HEADER]: 'not-the-token-at-all' },
    });
    expect(wrong.status).toBe(401);
    // The everyday API token is not the break-glass token.
    const apiToken = await h.call('DELETE', '/api/v1/backups/pt-g1', {
      headers: { [HEADER]: 'test-token-0123456789abcdef' },
    });
    expect(apiToken.status).toBe(401);
    expect(h.dump()).toEqual(before);

    const shorter = iso(T0 + 2 * DAY);
    const shortened = await h.call('PATCH', '/api/v1/backups/pt-g1', {
      body: { expireAt: shorter },
      headers: { [HEADER]: BREAK_GLASS },
    });
    expect(shortened.status, shortened.text).toBe(200);
    expect(shortened.body.lock.overrides).toEqual([
      { action: 'shorten', at: iso(T0), from: iso(T0 + 29 * DAY), to: shorter },
    ]);
    const deleted = await h.call('DELETE', '/api/v1/backups/pt-g1', { headers: { [HEADER]: BREAK_GLASS } });
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body.status).toBe('DELETED');
    expect(deleted.body.lock.overrides.map((o: { action: string }) => o.action)).toEqual([
      'shorten',
      'delete',
    ]);
  });

  it('has no override at all when no break-glass token is configured', async () => {
    await start({});
    await addLocked('pt-g2', 'governance');
    const before = h.dump();
    const r = await h.call('DELETE', '/api/v1/backups/pt-g2', { headers: { [HEADER]: BREAK_GLASS } });
    expect(r.status).toBe(409);
    expect(r.body.detail).toMatch(/no break-glass token is configured/);
    expect(h.dump()).toEqual(before);
  });
});

describe('locking', () => {
  it('an existing backup can be locked, then governance made compliance; the lock is never removed', async () => {
    await start();
    await h.store.points.create(aPoint({ id: 'pt-l1', instanceId: I }));
    const g = await h.call('PATCH', '/api/v1/backups/pt-l1', { body: { lock: { mode: 'governance' } } });
    expect(g.status, g.text).toBe(200);
    expect(g.body.lock.mode).toBe('governance');
    const c = await h.call('PATCH', '/api/v1/backups/pt-l1', { body: { lock: { mode: 'compliance' } } });
    expect(c.body.lock).toEqual({ mode: 'compliance', lockedAt: iso(T0), overrides: [] });
    const removed = await h.call('PATCH', '/api/v1/backups/pt-l1', { body: { lock: null } });
    expect(removed.status).toBe(400);
    expect(
      (await h.call('DELETE', '/api/v1/backups/pt-l1', { query: { confirm: 'last-good-backup' } })).status,
    ).toBe(409);
  });

  it('a plan and a one-off backup carry the lock to their jobs; a bad mode is a 400 naming the field', async () => {
    await start();
    const bad = await h.call('POST', '/api/v1/protected-instances', {
      body: { instanceId: I, plan: { ...dailyPlan, lock: { mode: 'forever' } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      { path: 'plan.lock.mode', message: 'must be compliance or governance' },
    ]);
    expect((await h.call('GET', '/api/v1/protected-instances')).body.items).toEqual([]);

    const r = await h.call('POST', '/api/v1/protected-instances', {
      body: { instanceId: I, plan: { ...dailyPlan, lock: { mode: 'compliance' } } },
    });
    expect(r.status, r.text).toBe(201);
    expect(r.body.plan.lock).toEqual({ mode: 'compliance' });
    const run = await h.call('POST', `/api/v1/plans/${r.body.plan.id}/run`);
    expect((await h.store.jobs.get(run.body.id))?.params.lock).toEqual({ mode: 'compliance' });

    const once = await h.call('POST', `/api/v1/protected-instances/${I}/backups`, {
      body: { lock: { mode: 'governance' } },
    });
    expect(once.status, once.text).toBe(202);
    expect((await h.store.jobs.get(once.body.id))?.params.lock).toEqual({ mode: 'governance' });

    const unlocked = await h.call('PATCH', `/api/v1/plans/${r.body.plan.id}`, { body: { lock: null } });
    expect(unlocked.status, unlocked.text).toBe(200);
    expect(unlocked.body.lock).toBeNull();
  });
});
