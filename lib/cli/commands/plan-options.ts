/**
 * The plan options shared by `protect` and `plans modify`, and their short forms (`12h`, `30d`,
 * `month:1y`). Only the short forms are checked here (exit 2); everything else goes to the API as
 * typed, so its field errors (`plan.schedule.startAt: ...`) are the ones the operator reads.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { collect } from './common.js';

const UNITS: Record<string, string> = {
  h: 'hours',
  d: 'days',
  w: 'weeks',
  m: 'months',
  y: 'years',
};

export interface Amount {
  value: number;
  unit: string;
}

export function parseAmount(option: string, raw: string, allowed: string[]): Amount {
  const m = /^(\d+)\s*([a-z]+)$/i.exec(raw.trim());
  const unit = m ? (UNITS[m[2]!.toLowerCase()] ?? `${m[2]!.toLowerCase().replace(/s$/, '')}s`) : '';
  if (!m || !allowed.includes(unit))
    throw new UsageError(
      `${option}: "${raw}" is not a number and a unit (${allowed.map((u) => `${u[0]}=${u}`).join(', ')}), e.g. 7${allowed[1]?.[0] ?? allowed[0]![0]}`,
    );
  return { value: Number(m[1]), unit };
}

export function parseLongTerm(raw: string): { period: string; keep: Amount } {
  const [period, keep] = raw.split(':');
  if (!period || !keep || !['week', 'month', 'year'].includes(period))
    throw new UsageError(`--long-term: "${raw}" must be week|month|year:<keep>, e.g. month:1y`);
  return { period, keep: parseAmount('--long-term', keep, ['days', 'weeks', 'months', 'years']) };
}

export function parseDisks(raw: string): 'all' | string[] {
  return raw === 'all'
    ? 'all'
    : raw
        .split(',')
        .map((d) => d.trim())
        .filter(Boolean);
}

export interface PlanOptions {
  name?: string;
  start?: string;
  every?: string;
  schedule?: boolean;
  retention?: string;
  longTerm?: string[];
  appConsistent?: boolean;
  fsFreeze?: boolean;
  windowsWriters?: boolean;
  freezeTimeout?: string;
  onPrescriptFailure?: string;
  onAgentUnavailable?: string;
  timeZone?: string;
  keepLatest?: boolean;
  copy?: string[];
  lock?: string;
  verifyEvery?: string;
}

export function addPlanOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'plan name (generated when omitted)')
    .option('--start <time>', 'first run, ISO 8601 with seconds and offset, e.g. 2026-12-01T02:00:00+08:00')
    .option('--every <interval>', 'interval: <n>h, <n>d or <n>w')
    .option('--retention <duration>', 'how long backups are kept: <n>d, <n>w, <n>m or <n>y')
    .option(
      '--long-term <rule>',
      'keep the first backup of a period longer: week|month|year:<duration> (repeatable)',
      collect,
    )
    .option('--app-consistent', 'application-consistent (Linux freeze with scripts, Windows VSS)')
    .option('--no-app-consistent', 'crash-consistent only')
    .option('--fs-freeze', 'Linux: freeze file systems (default)')
    .option('--no-fs-freeze', 'Linux: no freeze (crash-consistent)')
    .option('--windows-writers', 'Windows: VSS with writers (default)')
    .option('--no-windows-writers', 'Windows: VSS without writers (file-system consistent)')
    .option('--freeze-timeout <seconds>', 'freeze timeout, 1-1800 s')
    .addOption(
      new Option('--on-prescript-failure <what>', 'when the pre-script fails').choices(['continue', 'fail']),
    )
    .addOption(
      new Option('--on-agent-unavailable <what>', 'when Cloud Assistant does not answer').choices([
        'continue',
        'fail',
      ]),
    )
    .option('--time-zone <iana>', 'time zone of retention and long-term periods (default UTC)')
    .option('--keep-latest', 'never let retention delete the newest good backup (default)')
    .option('--no-keep-latest', 'retention may delete the newest good backup')
    .option(
      '--copy <region:duration>',
      'copy each backup to another region, kept there this long, e.g. cn-shanghai:30d (repeatable, at most 3)',
      collect,
    )
    .addOption(
      new Option('--lock <mode>', 'lock each backup until it expires (a lock is never removed)').choices([
        'compliance',
        'governance',
      ]),
    )
    .option('--verify-every <n>', 'restore-test every nth backup (1-100)');
}

/** `cn-shanghai:30d`: the region is the API's to check; only the short form of the duration is ours. */
export function parseCopy(raw: string): { regionId: string; retention: Amount } {
  const at = raw.lastIndexOf(':');
  if (at <= 0) throw new UsageError(`--copy: "${raw}" must be <region>:<duration>, e.g. cn-shanghai:30d`);
  return {
    regionId: raw.slice(0, at),
    retention: parseAmount('--copy', raw.slice(at + 1), ['days', 'weeks', 'months', 'years']),
  };
}

/**
 * The option that sets each plan field, so an API field error names what the operator typed. The
 * longest matching field wins (`schedule.every` before `schedule`).
 */
export const PLAN_FIELD_OPTIONS: Record<string, string> = {
  name: '--name',
  schedule: '--start/--every',
  'schedule.startAt': '--start',
  'schedule.every': '--every',
  retention: '--retention',
  longTerm: '--long-term',
  'consistency.applicationConsistent': '--app-consistent',
  'consistency.timeoutSeconds': '--freeze-timeout',
  timeZone: '--time-zone',
  keepLatest: '--keep-latest',
  copies: '--copy',
  lock: '--lock',
  verify: '--verify-every',
  disks: '--disks',
};

/** The plan fields the options name; nothing for options left out (a PATCH changes only those). */
export function planFields(o: PlanOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (o.name !== undefined) body['name'] = o.name;
  if (o.schedule === false) body['schedule'] = null;
  else if (o.start !== undefined || o.every !== undefined)
    body['schedule'] = {
      ...(o.start === undefined ? {} : { startAt: o.start }),
      ...(o.every === undefined
        ? {}
        : { every: parseAmount('--every', o.every, ['hours', 'days', 'weeks']) }),
    };
  if (o.retention !== undefined)
    body['retention'] = parseAmount('--retention', o.retention, ['days', 'weeks', 'months', 'years']);
  if (o.longTerm !== undefined) body['longTerm'] = o.longTerm.map(parseLongTerm);
  const consistency: Record<string, unknown> = {};
  if (o.appConsistent !== undefined) consistency['applicationConsistent'] = o.appConsistent;
  if (o.fsFreeze !== undefined) consistency['fsFreeze'] = o.fsFreeze;
  if (o.windowsWriters !== undefined) consistency['windowsWriters'] = o.windowsWriters;
  if (o.freezeTimeout !== undefined) {
    const n = Number(o.freezeTimeout);
    if (!Number.isInteger(n))
      throw new UsageError(`--freeze-timeout: "${o.freezeTimeout}" is not a whole number of seconds`);
    consistency['timeoutSeconds'] = n;
  }
  if (o.onPrescriptFailure !== undefined) consistency['onPreScriptFailure'] = o.onPrescriptFailure;
  if (o.onAgentUnavailable !== undefined) consistency['onAgentUnavailable'] = o.onAgentUnavailable;
  if (Object.keys(consistency).length) body['consistency'] = consistency;
  if (o.timeZone !== undefined) body['timeZone'] = o.timeZone;
  if (o.keepLatest !== undefined) body['keepLatest'] = o.keepLatest;
  if (o.copy !== undefined) body['copies'] = o.copy.map(parseCopy);
  if (o.lock !== undefined) body['lock'] = { mode: o.lock };
  if (o.verifyEvery !== undefined) {
    const every = Number(o.verifyEvery);
    if (!Number.isInteger(every))
      throw new UsageError(`--verify-every: "${o.verifyEvery}" is not a whole number`);
    body['verify'] = { every };
  }
  return body;
}
