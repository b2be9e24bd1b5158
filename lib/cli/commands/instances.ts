/** `instances ls`, `protect`, `protected ls|stop|backup`. */
import type { Command } from 'commander';
import { context, finishJob } from '../context.js';
import type { Column } from '../output.js';
import type { JobView } from '../wait.js';
import { addListOptions, addWait, enc, printList, type ListOptions } from './common.js';
import {
  addPlanOptions,
  parseDisks,
  parseLongTerm,
  parseAmount,
  PLAN_FIELD_OPTIONS,
  planFields,
  type PlanOptions,
} from './plan-options.js';
import { planSummary, type PlanView } from './plans.js';
import { namingOptions, under } from './field-options.js';

const PROTECT_FIELD_OPTIONS = { ...under('plan', PLAN_FIELD_OPTIONS), disks: '--disks' };

interface InstanceView {
  instanceId: string;
  name: string;
  status: string;
  osType: string;
  zoneId: string;
  disks: { diskId: string; category: string; sizeGiB: number; type: string }[];
  cloudAssistant: string;
  protection: { protected: boolean; planName: string | null; planState: string | null };
}

const instanceColumns: Column<InstanceView>[] = [
  { header: 'INSTANCE', value: (i) => i.instanceId },
  { header: 'NAME', value: (i) => i.name },
  { header: 'OS', value: (i) => i.osType },
  { header: 'STATUS', value: (i) => i.status },
  { header: 'ZONE', value: (i) => i.zoneId },
  { header: 'DISKS', value: (i) => i.disks.map((d) => `${d.diskId}(${d.category},${d.sizeGiB}G)`).join(' ') },
  { header: 'AGENT', value: (i) => i.cloudAssistant },
  {
    header: 'PROTECTED',
    value: (i) =>
      i.protection.protected
        ? `yes${i.protection.planName ? ` (${i.protection.planName}, ${i.protection.planState})` : ''}`
        : 'no',
  },
];

interface ProtectedView {
  instanceId: string;
  disks: 'all' | string[];
  plan: PlanView | null;
  createdAt: string;
}

const protectedColumns: Column<ProtectedView>[] = [
  { header: 'INSTANCE', value: (p) => p.instanceId },
  { header: 'DISKS', value: (p) => p.disks },
  { header: 'PLAN', value: (p) => (p.plan ? `${p.plan.name} (${p.plan.id})` : null) },
  { header: 'STATE', value: (p) => p.plan?.state },
  { header: 'SCHEDULE', value: (p) => (p.plan ? planSummary(p.plan) : 'on demand') },
  { header: 'SINCE', value: (p) => p.createdAt },
];

interface ProtectOptions extends PlanOptions {
  disks: string;
  idempotencyKey?: string;
  wait?: boolean;
}

export function registerInstances(program: Command): void {
  const instances = program.command('instances').description('ECS instances in the region');
  addListOptions(
    instances
      .command('ls')
      .description('list instances: OS, status, disks, Cloud Assistant, protection')
      .option('--protected <yes|no>', 'only protected (yes) or unprotected (no) instances'),
  ).action(async (o: ListOptions & { protected?: string }, cmd: Command) => {
    const ctx = context(cmd);
    const filter = o.protected === undefined ? undefined : String(['yes', 'true'].includes(o.protected));
    await printList(ctx, '/instances', o, { protected: filter }, instanceColumns, 'no instances');
  });

  addWait(
    addPlanOptions(
      program
        .command('protect')
        .description('protect an instance with a plan; without --start/--every, one backup starts now')
        .argument('<instanceId>')
        .option('--disks <all|d-1,d-2>', 'all disks (disks attached later too) or a list', 'all')
        .option('--idempotency-key <key>', 'repeat-safe: the same key returns the first answer'),
    ),
  ).action(async (instanceId: string, o: ProtectOptions, cmd: Command) => {
    const ctx = context(cmd);
    const plan = planFields(o);
    const body = { instanceId, disks: parseDisks(o.disks), ...(Object.keys(plan).length ? { plan } : {}) };
    const answer = await namingOptions(PROTECT_FIELD_OPTIONS, () =>
      ctx.client.post<{ plan: PlanView | null; job: JobView | null }>(
        '/protected-instances',
        body,
        o.idempotencyKey,
      ),
    );
    if (answer.job)
      return finishJob(ctx, answer.job, o.wait === true, `${instanceId} protected, one backup now`);
    ctx.out.done(
      `${instanceId} protected by plan ${answer.plan?.name} (${answer.plan?.id}), ${answer.plan ? planSummary(answer.plan) : ''}`,
      answer,
    );
  });

  const prot = program.command('protected').description('protected instances');
  addListOptions(prot.command('ls').description('protected instances with their plan')).action(
    async (o: ListOptions, cmd: Command) => {
      const ctx = context(cmd);
      await printList(ctx, '/protected-instances', o, {}, protectedColumns, 'no protected instances');
    },
  );
  prot
    .command('stop')
    .description('stop protection: plans deleted, backups kept')
    .argument('<instanceId>')
    .action(async (instanceId: string, _o: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const answer = await ctx.client.del<{ deletedPlanIds: string[] }>(
        `/protected-instances/${enc(instanceId)}`,
      );
      ctx.out.done(
        `${instanceId} no longer protected; plans deleted: ${answer.deletedPlanIds.join(', ') || 'none'}; backups kept`,
        answer,
      );
    });
  addWait(
    prot
      .command('backup')
      .description('protect now: one backup of a protected instance')
      .argument('<instanceId>')
      .option('--disks <all|d-1,d-2>', 'disks to back up (default: the plan’s)')
      .option('--retention <duration>', 'keep it for <n>d|w|m|y (default: the plan’s)')
      .option(
        '--long-term <rule>',
        'week|month|year:<duration> (repeatable)',
        (v: string, p: string[] = []) => [...p, v],
      )
      .option('--app-consistent', 'application-consistent')
      .option('--no-app-consistent', 'crash-consistent only'),
  ).action(async (instanceId: string, o: ProtectOptions, cmd: Command) => {
    const ctx = context(cmd);
    const body: Record<string, unknown> = {};
    if (o.disks !== undefined) body['disks'] = parseDisks(o.disks);
    if (o.retention !== undefined)
      body['retention'] = parseAmount('--retention', o.retention, ['days', 'weeks', 'months', 'years']);
    if (o.longTerm !== undefined) body['longTerm'] = o.longTerm.map(parseLongTerm);
    if (o.appConsistent !== undefined) body['consistency'] = { applicationConsistent: o.appConsistent };
    const job = await ctx.client.post<JobView>(`/protected-instances/${enc(instanceId)}/backups`, body);
    await finishJob(ctx, job, o.wait === true, `backup of ${instanceId} started`);
  });
}
