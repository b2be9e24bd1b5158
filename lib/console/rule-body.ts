/**
 * The rule form's values and what it sends: the whole rule to create one, and to change one only
 * the fields the operator changed, since a new plan body raises the rule's revision and rewrites
 * every plan the rule made at the next reconciliation.
 */
import { initialPlanForm, planBody, type PlanFormValue } from './plan-form.js';
import type { ProtectionRule, RulePlan } from './types.js';

export interface RuleFormValue {
  name: string;
  priority: number;
  /** `key=value` a line. */
  tags: string;
  /** Zone ids separated by commas or spaces; empty: every zone. */
  zones: string;
  osType: '' | 'linux' | 'windows';
  onUnmatch: 'keep' | 'remove';
  plan: PlanFormValue;
}

/** The plan fields the form shows; the rest of a rule's plan body (keepLatest, script options) is kept. */
const FORM_PLAN_FIELDS = [
  'name',
  'schedule',
  'retention',
  'longTerm',
  'timeZone',
  'copies',
  'lock',
  'verify',
];

export function initialRuleForm(rule?: ProtectionRule): RuleFormValue {
  return {
    name: rule?.name ?? '',
    priority: rule?.priority ?? 100,
    tags: Object.entries(rule?.match.tags ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    zones: (rule?.match.zoneIds ?? []).join(', '),
    osType: rule?.match.osType ?? '',
    onUnmatch: rule?.onUnmatch ?? 'keep',
    plan: initialPlanForm(rule?.plan),
  };
}

/** `key=value` a line; a line without `=` is a key with an empty value. */
export function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const at = t.indexOf('=');
    if (at < 0) tags[t] = '';
    else tags[t.slice(0, at).trim()] = t.slice(at + 1).trim();
  }
  return tags;
}

export function parseZones(text: string): string[] {
  return text.split(/[\s,]+/).filter((z) => z !== '');
}

function matchBody(v: RuleFormValue): ProtectionRule['match'] {
  const zoneIds = parseZones(v.zones);
  return {
    tags: parseTags(v.tags),
    ...(zoneIds.length === 0 ? {} : { zoneIds }),
    ...(v.osType === '' ? {} : { osType: v.osType }),
  };
}

/** POST /protection-rules. */
export function ruleBody(v: RuleFormValue): Record<string, unknown> {
  return {
    name: v.name.trim(),
    priority: v.priority,
    match: matchBody(v),
    disks: 'all',
    plan: planBody(v.plan),
    onUnmatch: v.onUnmatch,
  };
}

/** The form's plan over the rule's, keeping what the form does not show. */
function mergedPlan(kept: RulePlan, form: PlanFormValue): Record<string, unknown> {
  const body = planBody(form);
  const rest = Object.fromEntries(Object.entries(kept).filter(([k]) => !FORM_PLAN_FIELDS.includes(k)));
  return {
    ...rest,
    ...body,
    consistency: { ...kept.consistency, ...(body.consistency as Record<string, unknown>) },
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** PATCH /protection-rules/{id}: the fields that differ from the form as it opened; {} when none. */
export function rulePatch(
  rule: ProtectionRule,
  opened: RuleFormValue,
  v: RuleFormValue,
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (v.name.trim() !== opened.name) patch.name = v.name.trim();
  if (v.priority !== opened.priority) patch.priority = v.priority;
  if (!same(matchBody(v), matchBody(opened))) patch.match = matchBody(v);
  if (v.onUnmatch !== opened.onUnmatch) patch.onUnmatch = v.onUnmatch;
  if (!same(planBody(v.plan), planBody(opened.plan))) patch.plan = mergedPlan(rule.plan, v.plan);
  return patch;
}

/**
 * The API names a bad tag by its key (`match.tags.aliyun-x`) and a bad zone by its index
 * (`match.zoneIds[1]`); the form has one field for each list, so the errors are said there, naming
 * the entry.
 */
export function ruleFieldErrors(errors: Record<string, string>, v: RuleFormValue): Record<string, string> {
  const out: Record<string, string> = {};
  const zones = parseZones(v.zones);
  const add = (field: string, message: string) => {
    out[field] = out[field] === undefined ? message : `${out[field]}; ${message}`;
  };
  for (const [path, message] of Object.entries(errors)) {
    const tag = /^match\.tags\.(.*)$/.exec(path);
    const zone = /^match\.zoneIds\[(\d+)\]$/.exec(path);
    if (tag) add('match.tags', `${tag[1] === '' ? '(empty key)' : tag[1]}: ${message}`);
    else if (zone) add('match.zoneIds', `${zones[Number(zone[1])] ?? `zone ${zone[1]}`}: ${message}`);
    else add(path, message);
  }
  return out;
}
