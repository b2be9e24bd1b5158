import { describe, expect, it } from 'vitest';
import { firstMessageDueAt, firstMessageOverdue } from '../../../lib/domain/dispatch.js';
import { newJob } from '../../../lib/domain/job.js';
import type { Job, JobStatus } from '../../../lib/domain/model.js';

const T = Date.parse('2026-05-01T10:00:00Z');
const GRACE = 60_000;

function job(fields: { status?: JobStatus; scheduledAt?: number | null; version?: number } = {}): Job {
  const created = newJob(
    {
      id: 'job-1',
      type: 'backup',
      instanceId: 'i-aaaa1111',
      planId: null,
      scheduledAt: fields.scheduledAt ?? null,
      status: fields.status ?? 'QUEUED',
    },
    T,
  );
  return { ...created, version: fields.version ?? 1 };
}

describe('firstMessageOverdue: a queued job its creator never announced', () => {
  it.each([
    { name: 'run-now job, never picked up, past the grace', j: job(), now: T + GRACE + 1, overdue: true },
    { name: 'run-now job exactly at the grace: not yet', j: job(), now: T + GRACE, overdue: false },
    { name: 'run-now job inside the grace', j: job(), now: T + 5_000, overdue: false },
    {
      name: 'scheduled occurrence still ahead: its delayed message is not due',
      j: job({ scheduledAt: T + 90_000 }),
      now: T + GRACE + 1,
      overdue: false,
    },
    {
      name: 'scheduled occurrence passed by more than the grace',
      j: job({ scheduledAt: T + 90_000 }),
      now: T + 90_000 + GRACE + 1,
      overdue: true,
    },
    {
      name: 'catch-up occurrence in the past: due at creation',
      j: job({ scheduledAt: T - 3_600_000 }),
      now: T + GRACE + 1,
      overdue: true,
    },
    {
      name: 'a worker already wrote it (version 2)',
      j: job({ version: 2 }),
      now: T + 10 * GRACE,
      overdue: false,
    },
    { name: 'running job', j: job({ status: 'RUNNING' }), now: T + 10 * GRACE, overdue: false },
    {
      name: 'skipped occurrence (never announced by design)',
      j: job({ status: 'SKIPPED' }),
      now: T + 10 * GRACE,
      overdue: false,
    },
  ])('$name', ({ j, now, overdue }) => {
    expect(firstMessageOverdue(j, now, GRACE)).toBe(overdue);
  });

  it('dates the first message at the later of creation and occurrence', () => {
    expect(firstMessageDueAt(job())).toBe(T);
    expect(firstMessageDueAt(job({ scheduledAt: T + 30_000 }))).toBe(T + 30_000);
    expect(firstMessageDueAt(job({ scheduledAt: T - 30_000 }))).toBe(T);
  });
});
