/**
 * The job state machine. Transitions are data so the API, the docs and the tests read the same table.
 * Terminal statuses are absorbing: a finished job never changes status again, which is what makes
 * redelivered queue messages harmless.
 */
import { IllegalTransitionError } from './errors.js';
import type { Job, JobStatus, JobType } from './model.js';

export const JOB_TYPES = [
  'backup',
  'restore',
  'mount',
  'unmount',
  'export',
  'clone',
  'copy',
  'verify',
] as const satisfies readonly JobType[];

export const JOB_STATUSES = [
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
] as const satisfies readonly JobStatus[];

export const TERMINAL_STATUSES = [
  'COMPLETE',
  'PARTIAL_COMPLETE',
  'FAILED',
  'CANCELED',
  'SKIPPED',
  'EXPIRED',
] as const satisfies readonly JobStatus[];

/**
 * - Not yet running (CREATED, QUEUED): may start, be cancelled outright, be skipped (missed run,
 *   overlap), expire (start window passed) or fail (poison message).
 * - CANCELING may still end COMPLETE or PARTIAL_COMPLETE: the work can finish before the cancel is
 *   honoured, and reporting it cancelled would hide a backup that exists.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  CREATED: ['QUEUED', 'RUNNING', 'CANCELED', 'SKIPPED', 'EXPIRED', 'FAILED'],
  QUEUED: ['RUNNING', 'CANCELED', 'SKIPPED', 'EXPIRED', 'FAILED'],
  RUNNING: ['CANCELING', 'COMPLETE', 'PARTIAL_COMPLETE', 'FAILED'],
  CANCELING: ['CANCELED', 'COMPLETE', 'PARTIAL_COMPLETE', 'FAILED'],
  COMPLETE: [],
  PARTIAL_COMPLETE: [],
  FAILED: [],
  CANCELED: [],
  SKIPPED: [],
  EXPIRED: [],
};

export function isTerminal(status: JobStatus): boolean {
  return (TERMINAL_STATUSES as readonly JobStatus[]).includes(status);
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}

function clampProgress(p: number): number {
  return Number.isFinite(p) ? Math.min(100, Math.max(0, Math.round(p))) : 0;
}

/**
 * The job after moving to `to`; `patch` sets other fields in the same write (reason, step, state).
 * Refuses what the table does not allow, including staying in the same status: a redelivered step
 * must notice it already ran instead of writing again.
 */
export function transition(job: Job, to: JobStatus, now: number, patch: Partial<Job> = {}): Job {
  if (!canTransition(job.status, to)) throw new IllegalTransitionError(job.status, to, job.id);
  const next: Job = { ...job, ...patch, id: job.id, status: to, updatedAt: now };
  if (to === 'RUNNING' && next.startedAt === null) next.startedAt = now;
  if (isTerminal(to)) next.finishedAt = now;
  next.progress = to === 'COMPLETE' ? 100 : clampProgress(next.progress);
  return next;
}

/** Progress is a whole percentage 0-100; anything else is clamped rather than stored. */
export function withProgress(job: Job, progress: number, now: number): Job {
  return { ...job, progress: clampProgress(progress), updatedAt: now };
}

const MAX_CLIENT_TOKEN = 64;
const SAFE_ID = /^[A-Za-z0-9_.-]+$/;

/** 64-bit FNV-1a, base 36: stable across runtimes and free of imports. */
function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (const byte of new TextEncoder().encode(text)) {
    h = ((h ^ BigInt(byte)) * prime) & mask;
  }
  return h.toString(36);
}

/**
 * The id of the job for one occurrence of a plan: `job-<planId>-<seconds base 36>`. The same
 * occurrence always maps to the same id, so racing scheduler ticks and redelivered messages collapse
 * onto one job, and the id doubles as the ECS `ClientToken` (<= 64 ASCII). A plan id that would make
 * it too long, or that holds other characters, is replaced by its hash.
 */
export function scheduledJobId(planId: string, scheduledAt: number): string {
  const time =
    scheduledAt % 1000 === 0 ? Math.floor(scheduledAt / 1000).toString(36) : `${scheduledAt.toString(36)}ms`;
  const plain = `job-${planId}-${time}`;
  if (SAFE_ID.test(planId) && plain.length <= MAX_CLIENT_TOKEN) return plain;
  return `job-h${fnv1a64(planId)}-${time}`;
}

export interface NewJobFields {
  id: string;
  type: JobType;
  instanceId: string;
  planId?: string | null;
  scheduledAt?: number | null;
  params?: Record<string, unknown>;
  /** Default QUEUED: a job is stored just before its first queue message is sent. */
  status?: JobStatus;
  reason?: string | null;
  step?: string;
}

export function newJob(fields: NewJobFields, now: number): Job {
  const status = fields.status ?? 'QUEUED';
  return {
    id: fields.id,
    type: fields.type,
    status,
    instanceId: fields.instanceId,
    planId: fields.planId ?? null,
    scheduledAt: fields.scheduledAt ?? null,
    step: fields.step ?? 'start',
    progress: 0,
    cancelRequested: false,
    reason: fields.reason ?? null,
    params: fields.params ?? {},
    state: {},
    errors: [],
    attempts: 0,
    createdAt: now,
    updatedAt: now,
    startedAt: status === 'RUNNING' ? now : null,
    finishedAt: isTerminal(status) ? now : null,
    version: 1,
  };
}
