/**
 * `--wait`: follow a job until it ends. On a terminal a progress bar shows the percentage, status
 * and step; elsewhere one plain line is written per change, so logs stay readable. Both go to
 * stderr, keeping stdout for the result. Ctrl-C asks whether to cancel the job: yes sends the
 * cancel and keeps following it to its end; no leaves it running and stops waiting.
 */
import readline from 'node:readline';
import cliProgress from 'cli-progress';
import type { ApiClient } from './client.js';
import { CliError } from './errors.js';

export interface JobView {
  id: string;
  type: string;
  status: string;
  step: string;
  progress: number;
  reason: string | null;
  [key: string]: unknown;
}

export const OK_STATUSES = ['COMPLETE', 'PARTIAL_COMPLETE'];
export const FAILED_STATUSES = ['FAILED', 'CANCELED', 'SKIPPED', 'EXPIRED'];
const POLL_MS = 400;

export interface WaitIo {
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

export interface WaitResult {
  job: JobView;
  /** The operator chose to stop waiting; the job goes on. */
  detached: boolean;
}

interface Display {
  show(job: JobView): void;
  pause(): void;
  end(): void;
}

function barDisplay(stderr: NodeJS.WriteStream): Display {
  let bar: cliProgress.SingleBar | null = null;
  return {
    show(job) {
      const payload = { status: job.status, step: job.step };
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format: `${job.id} {bar} {percentage}% | {status} | {step}`,
            stream: stderr,
            hideCursor: true,
            barsize: 24,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(100, job.progress, payload);
      } else bar.update(job.progress, payload);
    },
    pause() {
      bar?.stop();
      bar = null;
    },
    end() {
      bar?.stop();
      bar = null;
    },
  };
}

function lineDisplay(stderr: NodeJS.WriteStream): Display {
  let last = '';
  return {
    show(job) {
      const line = `job ${job.id}: ${job.status} ${job.step} ${job.progress}%`;
      if (line !== last) stderr.write(`${line}\n`);
      last = line;
    },
    pause() {},
    end() {},
  };
}

/** Asks on the terminal; a second Ctrl-C at the question ends the CLI and leaves the job alone. */
async function askCancel(io: WaitIo, jobId: string): Promise<boolean> {
  const rl = readline.createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    return await new Promise<boolean>((resolve, reject) => {
      rl.on('SIGINT', () =>
        reject(
          new CliError(`\ninterrupted; job ${jobId} keeps running (ecs-backup jobs watch ${jobId})`, 130),
        ),
      );
      rl.question(`\nCancel job ${jobId}? [y/N] `, (answer) => resolve(/^y(es)?$/i.test(answer.trim())));
    });
  } finally {
    rl.close();
  }
}

export async function waitForJob(client: ApiClient, jobId: string, io: WaitIo): Promise<WaitResult> {
  const display = io.stderr.isTTY ? barDisplay(io.stderr) : lineDisplay(io.stderr);
  let interrupted = false;
  let wake: (() => void) | null = null;
  const onSigint = () => {
    interrupted = true;
    wake?.();
  };
  process.on('SIGINT', onSigint);
  let cancelSent = false;
  try {
    for (;;) {
      const job = await client.get<JobView>(`/jobs/${encodeURIComponent(jobId)}`);
      display.show(job);
      if (OK_STATUSES.includes(job.status) || FAILED_STATUSES.includes(job.status)) {
        display.end();
        return { job, detached: false };
      }
      if (!interrupted)
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, POLL_MS);
        });
      wake = null;
      if (!interrupted) continue;
      interrupted = false;
      display.pause();
      if (cancelSent) {
        io.stderr.write(`\ncancel already requested; waiting for job ${jobId} to stop\n`);
        continue;
      }
      if (!io.stdin.isTTY)
        throw new CliError(`interrupted; job ${jobId} keeps running (ecs-backup jobs watch ${jobId})`, 130);
      if (!(await askCancel(io, jobId))) {
        io.stderr.write(`job ${jobId} keeps running; follow it with: ecs-backup jobs watch ${jobId}\n`);
        return { job, detached: true };
      }
      await client.post(`/jobs/${encodeURIComponent(jobId)}/cancel`);
      cancelSent = true;
      io.stderr.write(`cancel requested for job ${jobId}\n`);
    }
  } finally {
    display.end();
    process.off('SIGINT', onSigint);
  }
}
