/** `jobs ls|show|watch|cancel`. */
import type { Command } from 'commander';
import { context, finishJob, jobColumns, jobFields } from '../context.js';
import type { JobView } from '../wait.js';
import { addListOptions, addWait, enc, printList, type ListOptions } from './common.js';

interface JobListOptions extends ListOptions {
  type?: string;
  status?: string;
  instance?: string;
  plan?: string;
  from?: string;
  to?: string;
}

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('backup, restore, mount and export jobs');
  addListOptions(
    jobs
      .command('ls')
      .description('list jobs, newest first')
      .option('--type <type>', 'one job type, e.g. backup, restore, mount, unmount')
      .option('--status <list>', 'statuses, comma separated, e.g. FAILED,CANCELED')
      .option('--instance <instanceId>', 'jobs of one instance')
      .option('--plan <planId>', 'jobs of one plan')
      .option('--from <time>', 'created at or after (ISO 8601)')
      .option('--to <time>', 'created before (ISO 8601)'),
  ).action(async (o: JobListOptions, cmd: Command) => {
    const ctx = context(cmd);
    const filters = {
      type: o.type,
      status: o.status,
      instanceId: o.instance,
      planId: o.plan,
      from: o.from,
      to: o.to,
    };
    await printList(ctx, '/jobs', o, filters, jobColumns, 'no jobs');
  });

  jobs
    .command('show')
    .description('one job: step, progress, consistency achieved and why, errors')
    .argument('<jobId>')
    .action(async (jobId: string, _o: unknown, cmd: Command) => {
      const ctx = context(cmd);
      ctx.out.item(await ctx.client.get<JobView>(`/jobs/${enc(jobId)}`), jobFields);
    });

  jobs
    .command('watch')
    .description('follow a job until it ends (exit 1 if FAILED, CANCELED or SKIPPED)')
    .argument('<jobId>')
    .action(async (jobId: string, _o: unknown, cmd: Command) => {
      const ctx = context(cmd);
      await finishJob(ctx, await ctx.client.get<JobView>(`/jobs/${enc(jobId)}`), true, 'watch');
    });

  addWait(jobs.command('cancel').description('cancel a job').argument('<jobId>')).action(
    async (jobId: string, o: { wait?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      const job = await ctx.client.post<JobView>(`/jobs/${enc(jobId)}/cancel`);
      await finishJob(ctx, job, o.wait === true, 'cancel requested');
    },
  );
}
