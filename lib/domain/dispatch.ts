import type { Job } from './model.js';

/**
 * A job is written first and announced second; a process that dies between the two leaves a QUEUED
 * job that no message will ever start. Such a job is recognisable without a second write on the hot
 * path: no worker has written it yet (it is still at its created version 1) although its first
 * message was due more than a grace period ago. A scheduled job's message is sent delayed to a few
 * seconds before its occurrence, so it is due at the occurrence at the latest; any other at creation.
 */
export function firstMessageDueAt(job: Job): number {
  return Math.max(job.createdAt, job.scheduledAt ?? 0);
}

/** True when `job` was never picked up although its first message was due more than `graceMs` ago. */
export function firstMessageOverdue(job: Job, now: number, graceMs: number): boolean {
  if (job.status !== 'QUEUED' || job.version !== 1) return false;
  return now - firstMessageDueAt(job) > graceMs;
}
