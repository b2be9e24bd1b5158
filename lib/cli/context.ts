/**
 * What every command gets from the global options: the API client (built on first use, so `login`
 * and `completion` need no token), the printer, and the shared way of finishing a command that
 * started a job (`--wait` or not).
 */
import type { Command } from 'commander';
import { ApiClient } from './client.js';
import { resolveConnection } from './config.js';
import { EXIT } from './errors.js';
import { createPrinter, outputFormat, type Column, type Printer } from './output.js';
import { FAILED_STATUSES, waitForJob, type JobView } from './wait.js';

export interface GlobalOptions {
  endpoint?: string;
  token?: string;
  output?: string;
}

export interface Context {
  client: ApiClient;
  out: Printer;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  /** Set by a command to finish with a non-zero code without an error message. */
  exitCode: number;
}

let current: Context | null = null;

/** The exit code the last command asked for (read by main once the command has run). */
export function lastExitCode(): number {
  return current?.exitCode ?? EXIT.ok;
}

export function context(cmd: Command): Context {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const format = outputFormat(opts.output, process.stdout.isTTY === true);
  let client: ApiClient | null = null;
  const ctx: Context = {
    get client() {
      client ??= new ApiClient(resolveConnection({ endpoint: opts.endpoint, token: opts.token }));
      return client;
    },
    out: createPrinter(format, (t) => process.stdout.write(t)),
    stderr: process.stderr,
    stdin: process.stdin,
    exitCode: EXIT.ok,
  };
  current = ctx;
  return ctx;
}

export const jobColumns: Column<JobView>[] = [
  { header: 'JOB', value: (j) => j.id },
  { header: 'TYPE', value: (j) => j.type },
  { header: 'STATUS', value: (j) => j.status },
  { header: 'STEP', value: (j) => j.step },
  { header: 'PROGRESS', value: (j) => `${j.progress}%` },
  { header: 'INSTANCE', value: (j) => j.instanceId },
  { header: 'CREATED', value: (j) => j.createdAt },
  { header: 'REASON', value: (j) => j.reason },
];

interface JobConsistency {
  requested: string;
  expected: string | null;
  achieved: string | null;
  reason: string | null;
  freezeWindowMs: number | null;
}

export const jobFields: Column<JobView>[] = [
  { header: 'id', value: (j) => j.id },
  { header: 'type', value: (j) => j.type },
  { header: 'status', value: (j) => j.status },
  { header: 'step', value: (j) => j.step },
  { header: 'progress', value: (j) => `${j.progress}%` },
  { header: 'instance', value: (j) => j.instanceId },
  { header: 'plan', value: (j) => j.planId },
  { header: 'scheduled', value: (j) => j.scheduledAt },
  { header: 'reason', value: (j) => j.reason },
  {
    header: 'consistency',
    value: (j) => {
      const c = j.consistency as JobConsistency | null;
      if (!c) return null;
      const got = c.achieved ?? `${c.expected ?? '?'} expected`;
      return `${got} (requested ${c.requested})${c.reason ? `: ${c.reason}` : ''}`;
    },
  },
  {
    header: 'freeze window',
    value: (j) => {
      const ms = (j.consistency as JobConsistency | null)?.freezeWindowMs;
      return ms === null || ms === undefined ? null : `${ms} ms`;
    },
  },
  { header: 'backup', value: (j) => j.backupId },
  { header: 'cancel requested', value: (j) => j.cancelRequested },
  { header: 'created', value: (j) => j.createdAt },
  { header: 'started', value: (j) => j.startedAt },
  { header: 'finished', value: (j) => j.finishedAt },
  {
    header: 'errors',
    value: (j) =>
      (j.errors as { code: string; message: string }[]).map((e) => `${e.code}: ${e.message}`).join('; '),
  },
];

/**
 * Ends a command that started (or follows) a job: with `--wait`, follow it and exit 1 when it ends
 * FAILED, CANCELED, SKIPPED or EXPIRED; without, print the job as it is now.
 */
export async function finishJob(ctx: Context, job: JobView, wait: boolean, what: string): Promise<void> {
  if (!wait) {
    if (ctx.out.format === 'json') return ctx.out.item(job, jobFields);
    ctx.out.done(`${what}: job ${job.id} ${job.status} (follow it: ecs-backup jobs watch ${job.id})`, job);
    return;
  }
  const result = await waitForJob(ctx.client, job.id, { stderr: ctx.stderr, stdin: ctx.stdin });
  ctx.out.item(result.job, jobFields);
  if (!result.detached && FAILED_STATUSES.includes(result.job.status)) ctx.exitCode = EXIT.jobFailed;
}
