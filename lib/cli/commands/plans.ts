/** `plans ls|show|run|modify|suspend|resume|rm`. */
import type { Command } from 'commander';
import { context, finishJob } from '../context.js';
import type { Column } from '../output.js';
import type { JobView } from '../wait.js';
import { addListOptions, addWait, enc, printList, type ListOptions } from './common.js';
import { namingOptions } from './field-options.js';
import { addPlanOptions, PLAN_FIELD_OPTIONS, planFields, type PlanOptions } from './plan-options.js';

interface Amount {
  value: number;
  unit: string;
}

export interface PlanView {
  id: string;
  name: string;
  instanceId: string;
  disks: 'all' | string[];
  schedule: { startAt: string; every: Amount } | null;
  retention: Amount;
  longTerm: { period: string; keep: Amount }[];
  consistency: Record<string, unknown>;
  timeZone: string;
  keepLatest: boolean;
  lock?: { mode: string } | null;
  copies?: { regionId: string; retention: Amount }[];
  verify?: { every: number } | null;
  state: string;
  nextRunAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const amount = (a: Amount) => `${a.value} ${a.value === 1 ? a.unit.replace(/s$/, '') : a.unit}`;

export function planSummary(p: PlanView): string {
  const when = p.schedule ? `every ${amount(p.schedule.every)} from ${p.schedule.startAt}` : 'on demand';
  return `${when}, keep ${amount(p.retention)}`;
}

const planColumns: Column<PlanView>[] = [
  { header: 'PLAN', value: (p) => p.id },
  { header: 'NAME', value: (p) => p.name },
  { header: 'INSTANCE', value: (p) => p.instanceId },
  { header: 'STATE', value: (p) => p.state },
  { header: 'SCHEDULE', value: (p) => planSummary(p) },
  { header: 'NEXT RUN', value: (p) => p.nextRunAt },
];

const planFieldsView: Column<PlanView>[] = [
  { header: 'id', value: (p) => p.id },
  { header: 'name', value: (p) => p.name },
  { header: 'instance', value: (p) => p.instanceId },
  { header: 'state', value: (p) => p.state },
  { header: 'disks', value: (p) => p.disks },
  {
    header: 'schedule',
    value: (p) => (p.schedule ? `every ${amount(p.schedule.every)} from ${p.schedule.startAt}` : 'on demand'),
  },
  { header: 'next run', value: (p) => p.nextRunAt },
  { header: 'retention', value: (p) => amount(p.retention) },
  {
    header: 'long-term',
    value: (p) => p.longTerm.map((r) => `first of each ${r.period}: ${amount(r.keep)}`).join('; '),
  },
  {
    header: 'consistency',
    value: (p) =>
      Object.entries(p.consistency)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' '),
  },
  { header: 'time zone', value: (p) => p.timeZone },
  { header: 'keep latest', value: (p) => p.keepLatest },
  { header: 'lock', value: (p) => p.lock?.mode },
  {
    header: 'copies',
    value: (p) => (p.copies ?? []).map((c) => `${c.regionId} kept ${amount(c.retention)}`).join('; ') || null,
  },
  { header: 'verify', value: (p) => (p.verify ? `every ${p.verify.every} backups` : null) },
  { header: 'created', value: (p) => p.createdAt },
  { header: 'updated', value: (p) => p.updatedAt },
];

interface PreviewRow {
  backupId: string;
  completedAt: string;
  status: string;
  decision: string;
  reason: string;
  expireAt: string;
}

const previewColumns: Column<PreviewRow>[] = [
  { header: 'BACKUP', value: (r) => r.backupId },
  { header: 'COMPLETED', value: (r) => r.completedAt },
  { header: 'DECISION', value: (r) => r.decision },
  { header: 'UNTIL', value: (r) => r.expireAt },
  { header: 'WHY', value: (r) => r.reason },
];

export function registerPlans(program: Command): void {
  const plans = program.command('plans').description('protection plans');
  addListOptions(
    plans
      .command('ls')
      .description('list plans')
      .option('--instance <instanceId>', 'plans of one instance')
      .option('--state <ACTIVE|SUSPENDED>', 'only active or suspended plans'),
  ).action(async (o: ListOptions & { instance?: string; state?: string }, cmd: Command) => {
    const ctx = context(cmd);
    await printList(ctx, '/plans', o, { instanceId: o.instance, state: o.state }, planColumns, 'no plans');
  });

  plans
    .command('show')
    .description('one plan; --preview adds what retention keeps and deletes, and why')
    .argument('<planId>')
    .option('--preview', 'retention preview of the plan’s backups')
    .action(async (planId: string, o: { preview?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      const plan = await ctx.client.get<PlanView>(`/plans/${enc(planId)}`);
      if (!o.preview) return ctx.out.item(plan, planFieldsView);
      const preview = await ctx.client.get<{ keep: number; delete: number; points: PreviewRow[] }>(
        `/plans/${enc(planId)}/retention-preview`,
      );
      if (ctx.out.format === 'json') return ctx.out.done('', { plan, retentionPreview: preview });
      ctx.out.item(plan, planFieldsView);
      ctx.out.done(`\nretention preview: ${preview.keep} kept, ${preview.delete} to delete`, preview);
      ctx.out.list({ items: preview.points, nextCursor: null }, previewColumns, 'no backups yet');
    });

  addWait(
    plans.command('run').description('run now: one backup with the plan’s settings').argument('<planId>'),
  ).action(async (planId: string, o: { wait?: boolean }, cmd: Command) => {
    const ctx = context(cmd);
    const job = await ctx.client.post<JobView>(`/plans/${enc(planId)}/run`);
    await finishJob(ctx, job, o.wait === true, `plan ${planId} run now`);
  });

  addPlanOptions(
    plans
      .command('modify')
      .description('change any subset of a plan; --no-schedule makes it on demand')
      .argument('<planId>')
      .option('--no-schedule', 'remove the schedule (backups on demand only)'),
  ).action(async (planId: string, o: PlanOptions, cmd: Command) => {
    const ctx = context(cmd);
    const body = planFields(o);
    const plan = await namingOptions(PLAN_FIELD_OPTIONS, () =>
      ctx.client.patch<PlanView>(`/plans/${enc(planId)}`, body),
    );
    ctx.out.item(plan, planFieldsView);
  });

  for (const [verb, description] of [
    ['suspend', 'suspend: no backups until resumed (queued run-now jobs canceled)'],
    ['resume', 'resume from the next occurrence after now (nothing missed is replayed)'],
  ] as const)
    plans
      .command(verb)
      .description(description)
      .argument('<planId>')
      .action(async (planId: string, _o: unknown, cmd: Command) => {
        const ctx = context(cmd);
        const plan = await ctx.client.post<PlanView>(`/plans/${enc(planId)}/${verb}`);
        ctx.out.done(`plan ${plan.id} ${plan.state}; next run ${plan.nextRunAt ?? '-'}`, plan);
      });

  plans
    .command('rm')
    .description('delete a plan (its backups are kept)')
    .argument('<planId>')
    .action(async (planId: string, _o: unknown, cmd: Command) => {
      const ctx = context(cmd);
      await ctx.client.del(`/plans/${enc(planId)}`);
      ctx.out.done(`plan ${planId} deleted; its backups are kept`, { planId, deleted: true });
    });
}
