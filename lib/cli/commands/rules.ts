/** `rules ls|show|create|preview|rm`: protection rules, which protect every instance whose tags match. */
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { context } from '../context.js';
import { UsageError } from '../errors.js';
import type { Column } from '../output.js';
import { addListOptions, collect, enc, printList, type ListOptions } from './common.js';
import { namingOptions, under } from './field-options.js';
import { addPlanOptions, PLAN_FIELD_OPTIONS, planFields, type PlanOptions } from './plan-options.js';

interface RuleView {
  id: string;
  name: string;
  priority: number;
  match: { tags: Record<string, string>; zoneIds?: string[]; osType?: string };
  onUnmatch: string;
  state: string;
  status: { reconciledAt: string | null; matched: number; protected: number; conflictCount: number };
  [key: string]: unknown;
}

const matchSummary = (r: RuleView) =>
  [
    ...Object.entries(r.match.tags).map(([k, v]) => `${k}=${v}`),
    ...(r.match.zoneIds ? [`zones ${r.match.zoneIds.join(',')}`] : []),
    ...(r.match.osType ? [r.match.osType] : []),
  ].join(' ');

const ruleColumns: Column<RuleView>[] = [
  { header: 'RULE', value: (r) => r.id },
  { header: 'NAME', value: (r) => r.name },
  { header: 'PRIORITY', value: (r) => r.priority },
  { header: 'MATCH', value: matchSummary },
  { header: 'STATE', value: (r) => r.state },
  { header: 'MATCHED', value: (r) => r.status.matched },
  { header: 'PROTECTED', value: (r) => r.status.protected },
  { header: 'CONFLICTS', value: (r) => r.status.conflictCount },
];

const ruleFields: Column<RuleView>[] = [
  { header: 'id', value: (r) => r.id },
  { header: 'name', value: (r) => r.name },
  { header: 'priority', value: (r) => r.priority },
  { header: 'match', value: matchSummary },
  { header: 'on unmatch', value: (r) => r.onUnmatch },
  { header: 'state', value: (r) => r.state },
  { header: 'reconciled', value: (r) => r.status.reconciledAt },
  { header: 'matched', value: (r) => r.status.matched },
  { header: 'protected', value: (r) => r.status.protected },
  { header: 'conflicts', value: (r) => r.status.conflictCount },
];

interface PreviewRow {
  instanceId: string;
  action: string;
  otherRuleId: string | null;
}

const previewColumns: Column<PreviewRow>[] = [
  { header: 'INSTANCE', value: (r) => r.instanceId },
  { header: 'ACTION', value: (r) => r.action },
  { header: 'OTHER RULE', value: (r) => r.otherRuleId },
];

const RULE_FIELD_OPTIONS = {
  ...under('plan', PLAN_FIELD_OPTIONS),
  name: '--name',
  priority: '--priority',
  'match.tags': '--tag',
  match: '--tag',
  'match.zoneIds': '--zone',
  'match.osType': '--os',
  onUnmatch: '--on-unmatch',
  disks: '--file',
};

interface RuleOptions extends PlanOptions {
  file?: string;
  priority?: string;
  tag?: string[];
  zone?: string[];
  os?: string;
  onUnmatch?: string;
}

function parseTag(raw: string): [string, string] {
  const at = raw.indexOf('=');
  if (at <= 0) throw new UsageError(`--tag: "${raw}" must be key=value, e.g. env=prod`);
  return [raw.slice(0, at), raw.slice(at + 1)];
}

/** A rule body from `--file` (JSON, as the API takes it) or from the flags; not both. */
export function ruleBody(o: RuleOptions): Record<string, unknown> {
  const { file, ...flags } = o;
  if (file !== undefined) {
    if (Object.values(flags).some((v) => v !== undefined))
      throw new UsageError('--file: give the rule as a file or as options, not both');
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`--file: cannot read "${file}" as JSON: ${(e as Error).message}`);
    }
  }
  const priority = o.priority === undefined ? undefined : Number(o.priority);
  if (priority !== undefined && !Number.isInteger(priority))
    throw new UsageError(`--priority: "${o.priority}" is not a whole number`);
  const match = {
    tags: Object.fromEntries((o.tag ?? []).map(parseTag)),
    ...(o.zone ? { zoneIds: o.zone } : {}),
    ...(o.os ? { osType: o.os } : {}),
  };
  return {
    name: o.name,
    priority,
    match,
    plan: planFields(o),
    ...(o.onUnmatch ? { onUnmatch: o.onUnmatch } : {}),
  };
}

export function registerRules(program: Command): void {
  const rules = program
    .command('rules')
    .description('protection rules: protect every instance whose tags match');
  addListOptions(rules.command('ls').alias('list').description('list rules')).action(
    async (o: ListOptions, cmd: Command) => {
      const ctx = context(cmd);
      await printList(ctx, '/protection-rules', o, {}, ruleColumns, 'no rules');
    },
  );

  rules
    .command('show')
    .description('one rule and how its last reconciliation went')
    .argument('<ruleId>')
    .action(async (ruleId: string, _o: unknown, cmd: Command) => {
      const ctx = context(cmd);
      ctx.out.item(await ctx.client.get<RuleView>(`/protection-rules/${enc(ruleId)}`), ruleFields);
    });

  addPlanOptions(
    rules
      .command('create')
      .description('create a rule from options, or from --file rule.json (the API request body)')
      .option('--file <rule.json>', 'the whole rule as JSON: {name, priority, match, plan, onUnmatch?}')
      .option('--priority <n>', 'the larger wins an instance two rules match (1-1000000)')
      .option('--tag <key=value>', 'match instances with this tag (repeatable; all must match)', collect)
      .option('--zone <zoneId>', 'only instances in this zone (repeatable)', collect)
      .addOption(new Option('--os <osType>', 'only this OS').choices(['linux', 'windows']))
      .addOption(
        new Option('--on-unmatch <what>', 'when an instance stops matching: keep or remove its plan').choices(
          ['keep', 'remove'],
        ),
      ),
  ).action(async (o: RuleOptions, cmd: Command) => {
    const ctx = context(cmd);
    const body = ruleBody(o);
    const rule = await namingOptions(RULE_FIELD_OPTIONS, () =>
      ctx.client.post<RuleView>('/protection-rules', body),
    );
    ctx.out.done(`rule ${rule.name} (${rule.id}) created; it is applied at the next reconciliation`, rule);
  });

  rules
    .command('preview')
    .description('what the rule would protect and change now, changing nothing')
    .argument('<ruleId>')
    .action(async (ruleId: string, _o: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const preview = await ctx.client.get<{ matched: number; rows: PreviewRow[] }>(
        `/protection-rules/${enc(ruleId)}/preview`,
      );
      if (ctx.out.format === 'json') return ctx.out.done('', preview);
      ctx.out.done(`${preview.matched} instances match`, preview);
      ctx.out.list({ items: preview.rows, nextCursor: null }, previewColumns, 'nothing would change');
    });

  rules
    .command('rm')
    .alias('delete')
    .description('delete a rule: its instances keep their plans and backups')
    .argument('<ruleId>')
    .action(async (ruleId: string, _o: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const rule = await ctx.client.del<RuleView>(`/protection-rules/${enc(ruleId)}`);
      ctx.out.done(`rule ${rule.id} ${rule.state}; its instances keep their plans`, rule);
    });
}
