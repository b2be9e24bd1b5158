import { describe, expect, it } from 'vitest';
import { classifyGuestRun, type GuestRun, type GuestVerdict } from '../../../lib/domain/guest-outcome.js';

const report = (fields: Partial<NonNullable<GuestRun['report']>> = {}): GuestRun['report'] => ({
  snapshotGroupId: null,
  snapshotError: null,
  preExit: 0,
  reason: null,
  ...fields,
});

interface Row {
  name: string;
  run: GuestRun;
  plan?: 'continue' | 'fail';
  kind: GuestVerdict['kind'];
  why?: RegExp;
}

const rows: Row[] = [
  {
    name: 'ok: the script reported the group it requested',
    run: {
      status: 'Success',
      errorCode: null,
      errorInfo: null,
      report: report({ snapshotGroupId: 'ssg-1' }),
    },
    kind: 'ok',
  },
  {
    name: 'ok even when the invocation failed after the snapshot (post-script failed)',
    run: {
      status: 'Failed',
      errorCode: null,
      errorInfo: 'exit 3',
      report: report({ snapshotGroupId: 'ssg-1' }),
    },
    kind: 'ok',
  },
  {
    name: 'pre-script failed and the plan says fail',
    run: {
      status: 'Failed',
      errorCode: null,
      errorInfo: null,
      report: report({ preExit: 2, reason: 'pre-script exited with 2' }),
    },
    plan: 'fail',
    kind: 'pre-script-failed',
    why: /pre-script exited with 2/,
  },
  {
    name: 'pre-script failed and the plan says continue: not a pre-script verdict',
    run: {
      status: 'Failed',
      errorCode: null,
      errorInfo: null,
      report: report({ preExit: 2, snapshotError: 'Forbidden' }),
    },
    kind: 'freeze-failed',
    why: /snapshot request from the guest failed \(Forbidden\)/,
  },
  {
    name: 'agent down: Cloud Assistant has no record of the run',
    run: { status: null, errorCode: null, errorInfo: null, report: null },
    kind: 'agent-down',
    why: /no result/,
  },
  {
    name: 'agent down: aborted before delivery',
    run: { status: 'Aborted', errorCode: null, errorInfo: null, report: null },
    kind: 'agent-down',
    why: /Aborted/,
  },
  {
    name: 'agent down: the agent is unreachable',
    run: { status: 'Failed', errorCode: 'ClientNotResponse', errorInfo: null, report: null },
    kind: 'agent-down',
    why: /ClientNotResponse/,
  },
  {
    name: 'agent down: failed without a single result line',
    run: { status: 'Failed', errorCode: null, errorInfo: 'boom', report: null },
    kind: 'agent-down',
  },
  {
    name: 'timed out: Cloud Assistant stopped the script at its timeout',
    run: { status: 'Timeout', errorCode: null, errorInfo: 'the command timed out', report: report() },
    kind: 'timed-out',
    why: /timed out without a snapshot \(the command timed out\)/,
  },
  {
    name: 'script invalid: Cloud Assistant refused the command',
    run: { status: 'Invalid', errorCode: 'InvalidCommand', errorInfo: 'bad content', report: report() },
    kind: 'script-invalid',
    why: /refused the guest script \(bad content\)/,
  },
  {
    name: 'freeze failed: the script ended without a snapshot and without an error line',
    run: { status: 'Success', errorCode: null, errorInfo: null, report: report() },
    kind: 'freeze-failed',
    why: /ended Success without a snapshot/,
  },
];

describe('classifyGuestRun', () => {
  it.each(rows)('$name', ({ run, plan, kind, why }) => {
    const verdict = classifyGuestRun(run, { onPreScriptFailure: plan ?? 'continue' });
    expect(verdict.kind).toBe(kind);
    if (why) expect('why' in verdict ? verdict.why : '').toMatch(why);
  });
});
