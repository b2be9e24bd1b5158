import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError, IllegalTransitionError } from '../../../lib/domain/errors.js';
import {
  JOB_STATUSES,
  JOB_TRANSITIONS,
  JOB_TYPES,
  TERMINAL_STATUSES,
  canTransition,
  isTerminal,
  newJob,
  scheduledJobId,
  transition,
  withProgress,
} from '../../../lib/domain/job.js';
import type { Job, JobStatus } from '../../../lib/domain/model.js';

const T = Date.parse('2026-05-01T10:00:00Z');
const job = (status: JobStatus = 'QUEUED'): Job =>
  newJob(
    { id: 'job-1', type: 'backup', instanceId: 'i-aaaa1111', planId: 'plan-1', scheduledAt: T, status },
    T,
  );

describe('job statuses and transitions', () => {
  it('lists every type and status the issue names', () => {
    expect(JOB_TYPES).toEqual(['backup', 'restore', 'mount', 'unmount', 'export', 'clone', 'copy', 'verify']);
    for (const s of [
      'CREATED',
      'QUEUED',
      'RUNNING',
      'CANCELING',
      'COMPLETE',
      'PARTIAL_COMPLETE',
      'FAILED',
      'CANCELED',
      'SKIPPED',
      'EXPIRED',
    ]) {
      expect(JOB_STATUSES).toContain(s);
    }
    expect(Object.keys(JOB_TRANSITIONS).sort()).toEqual([...JOB_STATUSES].sort());
  });

  it.each([
    { name: 'queued job starts', from: 'QUEUED', to: 'RUNNING', ok: true },
    { name: 'created job is queued', from: 'CREATED', to: 'QUEUED', ok: true },
    { name: 'missed occurrence is skipped before it runs', from: 'QUEUED', to: 'SKIPPED', ok: true },
    { name: 'start window passed: expired', from: 'CREATED', to: 'EXPIRED', ok: true },
    { name: 'queued job cancelled outright', from: 'QUEUED', to: 'CANCELED', ok: true },
    { name: 'poison message fails a queued job', from: 'QUEUED', to: 'FAILED', ok: true },
    { name: 'running job asked to cancel', from: 'RUNNING', to: 'CANCELING', ok: true },
    { name: 'running job completes', from: 'RUNNING', to: 'COMPLETE', ok: true },
    { name: 'running job completes partially', from: 'RUNNING', to: 'PARTIAL_COMPLETE', ok: true },
    { name: 'cancel honoured', from: 'CANCELING', to: 'CANCELED', ok: true },
    { name: 'work finished before the cancel took effect', from: 'CANCELING', to: 'COMPLETE', ok: true },
    { name: 'a running job cannot be skipped', from: 'RUNNING', to: 'SKIPPED', ok: false },
    { name: 'a running job cannot go back to the queue', from: 'RUNNING', to: 'QUEUED', ok: false },
    { name: 'staying in the same status is not a transition', from: 'RUNNING', to: 'RUNNING', ok: false },
    { name: 'a queued job cannot complete without running', from: 'QUEUED', to: 'COMPLETE', ok: false },
    { name: 'complete is final', from: 'COMPLETE', to: 'FAILED', ok: false },
    { name: 'failed cannot be retried in place', from: 'FAILED', to: 'RUNNING', ok: false },
  ] as { name: string; from: JobStatus; to: JobStatus; ok: boolean }[])(
    '$name ($from -> $to)',
    ({ from, to, ok }) => {
      expect(canTransition(from, to)).toBe(ok);
    },
  );

  it('isTerminal matches TERMINAL_STATUSES and those have no way out', () => {
    for (const s of JOB_STATUSES) {
      expect(isTerminal(s)).toBe((TERMINAL_STATUSES as readonly string[]).includes(s));
      if (isTerminal(s)) expect(JOB_TRANSITIONS[s]).toEqual([]);
    }
  });

  it('every non-terminal status can reach a terminal one', () => {
    for (const s of JOB_STATUSES) {
      if (isTerminal(s)) continue;
      expect(JOB_TRANSITIONS[s].some(isTerminal)).toBe(true);
    }
  });
});

describe('transition', () => {
  it('entering RUNNING sets startedAt once', () => {
    const running = transition(job(), 'RUNNING', T + 5_000, { step: 'resolve-disks' });
    expect(running).toMatchObject({
      status: 'RUNNING',
      startedAt: T + 5_000,
      updatedAt: T + 5_000,
      step: 'resolve-disks',
      finishedAt: null,
    });
    const withStart = { ...job('CREATED'), startedAt: T + 1 };
    expect(transition(withStart, 'RUNNING', T + 9).startedAt).toBe(T + 1);
  });

  it('a terminal status sets finishedAt; COMPLETE sets progress 100', () => {
    const done = transition(transition(job(), 'RUNNING', T + 1), 'COMPLETE', T + 60_000);
    expect(done).toMatchObject({ status: 'COMPLETE', finishedAt: T + 60_000, progress: 100 });
  });

  it('patch fields land in the same write, but never the id or the status', () => {
    const failed = transition(job(), 'FAILED', T + 2, {
      reason: 'poison message',
      id: 'other',
      status: 'COMPLETE',
      progress: 250,
    });
    expect(failed).toMatchObject({ id: 'job-1', status: 'FAILED', reason: 'poison message', progress: 100 });
    expect(transition(job(), 'SKIPPED', T + 2, { progress: -3 }).progress).toBe(0);
    expect(transition(job(), 'SKIPPED', T + 2, { progress: Number.NaN }).progress).toBe(0);
  });

  it('refuses an illegal transition with an error that names both states', () => {
    const done = transition(transition(job(), 'RUNNING', T), 'COMPLETE', T);
    let caught: unknown;
    try {
      transition(done, 'RUNNING', T);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(IllegalTransitionError);
    expect(caught).toBeInstanceOf(DomainError);
    const e = caught as IllegalTransitionError;
    expect(e.name).toBe('IllegalTransitionError');
    expect([e.from, e.to]).toEqual(['COMPLETE', 'RUNNING']);
    expect(e.message).toBe('illegal job transition COMPLETE -> RUNNING (job job-1)');
  });

  it('the error reads well without a job id too', () => {
    expect(new IllegalTransitionError('QUEUED', 'COMPLETE').message).toBe(
      'illegal job transition QUEUED -> COMPLETE',
    );
  });

  it('withProgress clamps to a whole percentage', () => {
    expect(withProgress(job('RUNNING'), 42.6, T + 1)).toMatchObject({ progress: 43, updatedAt: T + 1 });
    expect(withProgress(job('RUNNING'), 101, T).progress).toBe(100);
    expect(withProgress(job('RUNNING'), -1, T).progress).toBe(0);
  });
});

const statusArb = fc.constantFrom(...JOB_STATUSES);

describe('job properties', () => {
  it('terminal statuses are absorbing: every move out of one is refused', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TERMINAL_STATUSES), statusArb, (from, to) => {
        expect(canTransition(from, to)).toBe(false);
        expect(() => transition(job(from), to, T)).toThrow(IllegalTransitionError);
      }),
    );
  });

  it('any walk follows the table; an illegal step throws naming both states and changes nothing', () => {
    fc.assert(
      fc.property(fc.array(statusArb, { maxLength: 12 }), (steps) => {
        let current = job('CREATED');
        for (const to of steps) {
          const before = structuredClone(current);
          if (canTransition(current.status, to)) {
            current = transition(current, to, T);
            expect(current.status).toBe(to);
          } else {
            expect(() => transition(current, to, T)).toThrow(new RegExp(`${current.status} -> ${to}`));
            expect(current).toEqual(before);
          }
        }
        if (isTerminal(current.status)) expect(current.finishedAt).toBe(T);
      }),
    );
  });
});

describe('scheduledJobId', () => {
  it.each([
    {
      name: 'plan id kept as is, seconds in base 36',
      planId: 'plan-abcdefghij0123456789',
      at: Date.parse('2026-01-01T00:00:00Z'),
      expected: 'job-plan-abcdefghij0123456789-t85s00',
    },
    {
      name: 'sub-second times stay distinct',
      planId: 'plan-1',
      at: 1_700_000_000_123,
      expected: `job-plan-1-${(1_700_000_000_123).toString(36)}ms`,
    },
  ])('$name', ({ planId, at, expected }) => {
    expect(scheduledJobId(planId, at)).toBe(expected);
  });

  it('hashes a plan id that is too long or holds other characters', () => {
    const long = scheduledJobId('p'.repeat(80), T);
    expect(long).toMatch(/^job-h[0-9a-z]+-[0-9a-z]+$/);
    expect(long.length).toBeLessThanOrEqual(64);
    expect(scheduledJobId('plan/ünïcode', T)).toMatch(/^job-h[0-9a-z]+-[0-9a-z]+$/);
    expect(scheduledJobId('p'.repeat(80), T)).not.toBe(scheduledJobId('p'.repeat(81), T));
  });

  it('is deterministic, ASCII, at most 64 characters, and distinct per occurrence and per plan', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.integer({ min: 1, max: 10 ** 9 }),
        (planId, at, delta) => {
          const id = scheduledJobId(planId, at);
          expect(id).toBe(scheduledJobId(planId, at));
          expect(id.length).toBeLessThanOrEqual(64);
          expect(/^[\x21-\x7e]+$/.test(id)).toBe(true);
          expect(scheduledJobId(planId, at + delta)).not.toBe(id);
          expect(scheduledJobId(`${planId}x`, at)).not.toBe(id);
        },
      ),
    );
  });
});

describe('newJob', () => {
  it('defaults: QUEUED at step start, nothing done yet', () => {
    expect(newJob({ id: 'job-9', type: 'restore', instanceId: 'i-aaaa1111' }, T)).toEqual({
      id: 'job-9',
      type: 'restore',
      status: 'QUEUED',
      instanceId: 'i-aaaa1111',
      planId: null,
      scheduledAt: null,
      step: 'start',
      progress: 0,
      cancelRequested: false,
      reason: null,
      params: {},
      state: {},
      errors: [],
      attempts: 0,
      createdAt: T,
      updatedAt: T,
      startedAt: null,
      finishedAt: null,
      version: 1,
    });
  });

  it('a job recorded as SKIPPED is finished at once, with its reason', () => {
    const skipped = newJob(
      { id: 'job-s', type: 'backup', instanceId: 'i-aaaa1111', status: 'SKIPPED', reason: 'missed' },
      T,
    );
    expect(skipped).toMatchObject({ status: 'SKIPPED', finishedAt: T, reason: 'missed', startedAt: null });
    expect(
      newJob(
        {
          id: 'job-r',
          type: 'mount',
          instanceId: 'i-aaaa1111',
          status: 'RUNNING',
          step: 'attach',
          params: { a: 1 },
        },
        T,
      ),
    ).toMatchObject({ startedAt: T, step: 'attach', params: { a: 1 } });
  });
});
