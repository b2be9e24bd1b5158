import { describe, expect, it } from 'vitest';
import {
  initialRuleForm,
  parseTags,
  ruleBody,
  ruleFieldErrors,
  rulePatch,
} from '../../../lib/console/rule-body.js';
import type { ProtectionRule } from '../../../lib/console/types.js';

/** A rule as GET /protection-rules/{id} answers it: the plan body with its defaults filled in. */
function rule(patch: Partial<ProtectionRule> = {}): ProtectionRule {
  return {
    id: 'rule-1',
    name: 'web',
    priority: 10,
    match: { tags: { tier: 'web', env: 'prod' }, zoneIds: ['cn-hangzhou-h'] },
    disks: 'all',
    plan: {
      schedule: { startAt: '2030-01-01T02:00:00Z', every: { value: 1, unit: 'days' } },
      retention: { value: 7, unit: 'days' },
      longTerm: [],
      consistency: {
        applicationConsistent: true,
        fsFreeze: true,
        windowsWriters: true,
        timeoutSeconds: 90,
        onPreScriptFailure: 'abort',
      },
      timeZone: 'UTC',
      keepLatest: false,
      copies: [{ regionId: 'cn-shanghai', retention: { value: 30, unit: 'days' } }],
    },
    onUnmatch: 'keep',
    revision: 1,
    state: 'ACTIVE',
    status: { reconciledAt: null, matched: 0, protected: 0, conflictCount: 0, error: null },
    createdAt: '2026-12-01T00:00:00.000Z',
    ...patch,
  };
}

describe('the rule form: what it sends and where the API errors go', () => {
  it('reads tags a line each, trimmed, a bare key matching an empty value', () => {
    expect(parseTags(' tier = web \n\nenv=prod=blue\nbackup\n')).toEqual({
      tier: 'web',
      env: 'prod=blue',
      backup: '',
    });
  });

  it('creates with the whole rule: zones split on commas or spaces, OS and zones left out when empty', () => {
    const v = {
      ...initialRuleForm(),
      name: ' web ',
      priority: 7,
      tags: 'tier=web',
      onUnmatch: 'remove' as const,
    };
    const body = ruleBody({ ...v, zones: 'cn-hangzhou-h, cn-hangzhou-i  cn-hangzhou-j' });
    expect(body).toMatchObject({
      name: 'web',
      priority: 7,
      match: { tags: { tier: 'web' }, zoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i', 'cn-hangzhou-j'] },
      disks: 'all',
      onUnmatch: 'remove',
      plan: { retention: { value: 7, unit: 'days' } },
    });
    expect(ruleBody(v).match).toEqual({ tags: { tier: 'web' } });
    expect(ruleBody({ ...v, osType: 'windows' }).match).toEqual({ tags: { tier: 'web' }, osType: 'windows' });
  });

  it('opens an edit on the rule as it is, and an untouched form changes nothing', () => {
    const r = rule();
    const opened = initialRuleForm(r);
    expect(opened).toMatchObject({
      name: 'web',
      priority: 10,
      tags: 'tier=web\nenv=prod',
      zones: 'cn-hangzhou-h',
      osType: '',
      onUnmatch: 'keep',
    });
    expect(opened.plan).toMatchObject({
      onSchedule: true,
      applicationConsistent: true,
      copies: r.plan.copies,
    });
    expect(rulePatch(r, opened, { ...opened })).toEqual({});
  });

  it('sends only the changed fields; a rule without a schedule opens with the schedule off', () => {
    const r = rule();
    const opened = initialRuleForm(r);
    expect(rulePatch(r, opened, { ...opened, priority: 20, onUnmatch: 'remove' })).toEqual({
      priority: 20,
      onUnmatch: 'remove',
    });
    expect(rulePatch(r, opened, { ...opened, tags: 'tier=web', zones: '' })).toEqual({
      match: { tags: { tier: 'web' } },
    });
    const { schedule: _none, ...unscheduled } = r.plan;
    expect(initialRuleForm(rule({ plan: unscheduled })).plan.onSchedule).toBe(false);
  });

  it('a changed plan keeps what the form does not show (keepLatest, script options) and drops what it turned off', () => {
    const r = rule();
    const opened = initialRuleForm(r);
    const patch = rulePatch(r, opened, {
      ...opened,
      plan: { ...opened.plan, retention: { value: 2, unit: 'weeks' }, copies: [], onSchedule: false },
    });
    expect(Object.keys(patch)).toEqual(['plan']);
    const plan = patch.plan as Record<string, unknown>;
    expect(plan).toMatchObject({
      retention: { value: 2, unit: 'weeks' },
      keepLatest: false,
      consistency: { applicationConsistent: true, timeoutSeconds: 90, onPreScriptFailure: 'abort' },
    });
    expect(plan).not.toHaveProperty('copies');
    expect(plan).not.toHaveProperty('schedule');
  });

  it('puts a bad tag key and a bad zone on their one field, naming the entry', () => {
    const v = { ...initialRuleForm(), zones: 'cn-hangzhou-h nowhere' };
    expect(
      ruleFieldErrors(
        {
          name: 'must start with a letter',
          'match.tags.aliyun-x': 'Invalid key in record',
          'match.tags.': 'Invalid key in record',
          'match.zoneIds[1]': 'must be an ECS zone id like cn-hangzhou-h',
          'plan.retention.value': 'must be at least 1',
        },
        v,
      ),
    ).toEqual({
      name: 'must start with a letter',
      'match.tags': 'aliyun-x: Invalid key in record; (empty key): Invalid key in record',
      'match.zoneIds': 'nowhere: must be an ECS zone id like cn-hangzhou-h',
      'plan.retention.value': 'must be at least 1',
    });
  });
});
