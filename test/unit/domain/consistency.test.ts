import { describe, expect, it } from 'vitest';
import type {
  ConsistencyDecision,
  DiskInfo,
  ScriptCheck,
  AgentStatus,
} from '../../../lib/domain/consistency.js';
import { decideConsistency, decidePreScriptFailure, isEssdFamily } from '../../../lib/domain/consistency.js';
import type { ConsistencyOptions, OsType } from '../../../lib/domain/model.js';

const defaults: ConsistencyOptions = {
  applicationConsistent: false,
  fsFreeze: true,
  windowsWriters: true,
  timeoutSeconds: 30,
  onPreScriptFailure: 'continue',
  onAgentUnavailable: 'continue',
};
const app = { ...defaults, applicationConsistent: true };
const essd: DiskInfo[] = [
  { diskId: 'd-sys00001', category: 'cloud_essd' },
  { diskId: 'd-data0001', category: 'cloud_auto' },
  { diskId: 'd-data0002', category: 'cloud_essd_entry' },
];
const settings = { groupDiskLimit: 16 };

interface Row {
  name: string;
  os: OsType;
  options: ConsistencyOptions;
  scripts?: ScriptCheck | 'unknown';
  agent?: AgentStatus;
  disks?: DiskInfo[];
  limit?: number;
  expected: Partial<ConsistencyDecision>;
  reason: RegExp;
}

// Design §4, one row each, then the cases around it.
const rows: Row[] = [
  {
    name: '§4 any OS, app-consistent off -> crash (Linux)',
    os: 'linux',
    options: defaults,
    expected: {
      requested: 'crash',
      expected: 'crash',
      snapshot: 'group',
      method: 'direct',
      installAgent: false,
    },
    reason: /application consistency is off/,
  },
  {
    name: '§4 any OS, app-consistent off -> crash (Windows)',
    os: 'windows',
    options: defaults,
    expected: { expected: 'crash', method: 'direct' },
    reason: /application consistency is off/,
  },
  {
    name: '§4 Linux, app on, freeze on, both scripts valid -> application',
    os: 'linux',
    options: app,
    scripts: 'valid',
    expected: {
      requested: 'application',
      expected: 'application',
      snapshot: 'group',
      method: 'guest-linux',
      installAgent: false,
    },
    reason: /pre\/post scripts valid/,
  },
  {
    name: '§4 Linux, app on, freeze on, scripts missing -> file system',
    os: 'linux',
    options: app,
    scripts: 'missing',
    expected: { expected: 'filesystem', method: 'guest-linux' },
    reason: /missing: file-system-consistent/,
  },
  {
    name: '§4 Linux, app on, freeze on, scripts invalid -> file system',
    os: 'linux',
    options: app,
    scripts: 'invalid',
    expected: { expected: 'filesystem', method: 'guest-linux' },
    reason: /owned by root with mode 0700/,
  },
  {
    name: '§4 Windows, app on, writers on -> application (VSS with writers)',
    os: 'windows',
    options: app,
    expected: { requested: 'application', expected: 'application', method: 'guest-windows' },
    reason: /VSS with writers/,
  },
  {
    name: '§4 Windows, app on, writers off -> file system (VSS without writers)',
    os: 'windows',
    options: { ...app, windowsWriters: false },
    expected: { expected: 'filesystem', method: 'guest-windows' },
    reason: /VSS without writers/,
  },
  {
    name: 'Linux, scripts not yet checked: the guest decides, application expected',
    os: 'linux',
    options: app,
    scripts: 'unknown',
    expected: { expected: 'application', method: 'guest-linux' },
    reason: /checked in the guest/,
  },
  {
    name: 'Linux, app on but freeze off -> crash (app consistency needs the freeze)',
    os: 'linux',
    options: { ...app, fsFreeze: false },
    scripts: 'valid',
    expected: { requested: 'application', expected: 'crash', method: 'direct' },
    reason: /freeze is off/,
  },
  {
    name: 'Windows ignores the Linux freeze option',
    os: 'windows',
    options: { ...app, fsFreeze: false },
    expected: { expected: 'application', method: 'guest-windows' },
    reason: /VSS/,
  },
  {
    name: 'agent missing -> install it, crash this time',
    os: 'linux',
    options: app,
    scripts: 'valid',
    agent: 'missing',
    expected: { expected: 'crash', method: 'direct', installAgent: true, snapshot: 'group' },
    reason: /agent is missing: installing it .*reboot.*crash-consistent/,
  },
  {
    name: 'agent missing even when the plan says fail -> still install + crash (design §4)',
    os: 'windows',
    options: { ...app, onAgentUnavailable: 'fail' },
    agent: 'missing',
    expected: { method: 'direct', installAgent: true },
    reason: /agent is missing/,
  },
  {
    name: 'agent missing but app off -> nothing to install',
    os: 'linux',
    options: defaults,
    agent: 'missing',
    expected: { method: 'direct', installAgent: false },
    reason: /application consistency is off/,
  },
  {
    name: 'agent not responding, plan says continue -> crash',
    os: 'linux',
    options: app,
    scripts: 'valid',
    agent: 'not-responding',
    expected: { expected: 'crash', method: 'direct', installAgent: false },
    reason: /not responding: this backup is crash-consistent/,
  },
  {
    name: 'agent not responding, plan says fail -> fail',
    os: 'windows',
    options: { ...app, onAgentUnavailable: 'fail' },
    agent: 'not-responding',
    expected: { method: 'fail' },
    reason: /not responding and the plan says fail/,
  },
  {
    name: 'a non-ESSD disk -> per-disk crash, no group',
    os: 'linux',
    options: app,
    scripts: 'valid',
    disks: [...essd, { diskId: 'd-old00001', category: 'cloud_efficiency' }],
    expected: {
      requested: 'application',
      expected: 'crash',
      snapshot: 'per-disk',
      method: 'direct',
      installAgent: false,
    },
    reason:
      /application consistency needs a snapshot group; not ESSD-family.*d-old00001 \(cloud_efficiency\)/,
  },
  {
    name: 'non-ESSD disks with app off -> per-disk crash',
    os: 'windows',
    options: defaults,
    disks: [{ diskId: 'd-ssd00001', category: 'cloud_ssd' }],
    expected: { expected: 'crash', snapshot: 'per-disk', method: 'direct' },
    reason: /^not ESSD-family.*per-disk crash-consistent/,
  },
  {
    name: 'non-ESSD disks and a missing agent -> per-disk crash, no agent install',
    os: 'linux',
    options: app,
    agent: 'missing',
    disks: [{ diskId: 'd-hdd00001', category: 'cloud' }],
    expected: { snapshot: 'per-disk', installAgent: false },
    reason: /not ESSD-family/,
  },
  {
    name: 'disk count at the group limit -> group',
    os: 'linux',
    options: app,
    scripts: 'valid',
    limit: 3,
    expected: { snapshot: 'group', expected: 'application' },
    reason: /application-consistent/,
  },
  {
    name: 'disk count over the group limit -> per-disk crash',
    os: 'linux',
    options: app,
    scripts: 'valid',
    limit: 2,
    expected: { snapshot: 'per-disk', expected: 'crash', method: 'direct' },
    reason: /3 disks exceed the snapshot group limit of 2/,
  },
  {
    name: 'no disk at all -> fail',
    os: 'linux',
    options: app,
    disks: [],
    expected: { method: 'fail' },
    reason: /no disk to back up/,
  },
];

describe('decideConsistency', () => {
  it.each(rows)('$name', ({ os, options, scripts, agent, disks, limit, expected, reason }) => {
    const decision = decideConsistency(
      os,
      options,
      scripts ?? 'unknown',
      agent ?? 'running',
      disks ?? essd,
      limit === undefined ? settings : { groupDiskLimit: limit },
    );
    expect(decision).toMatchObject(expected);
    expect(decision.reason).toMatch(reason);
  });

  it('every outcome over every input combination carries a reason', () => {
    const oses: OsType[] = ['linux', 'windows'];
    const checks: (ScriptCheck | 'unknown')[] = ['valid', 'missing', 'invalid', 'unknown'];
    const agents: AgentStatus[] = ['running', 'missing', 'not-responding'];
    const diskSets = [essd, [], [{ diskId: 'd-x0000001', category: 'cloud_efficiency' }]];
    let n = 0;
    for (const os of oses)
      for (const applicationConsistent of [true, false])
        for (const fsFreeze of [true, false])
          for (const windowsWriters of [true, false])
            for (const onAgentUnavailable of ['continue', 'fail'] as const)
              for (const check of checks)
                for (const agent of agents)
                  for (const disks of diskSets) {
                    const options = {
                      ...defaults,
                      applicationConsistent,
                      fsFreeze,
                      windowsWriters,
                      onAgentUnavailable,
                    };
                    const d = decideConsistency(os, options, check, agent, disks, settings);
                    expect(d.reason?.length ?? 0).toBeGreaterThan(10);
                    // The guest path only when the agent runs and a group is possible.
                    if (d.method.startsWith('guest')) {
                      expect(agent).toBe('running');
                      expect(d.snapshot).toBe('group');
                    }
                    // Per-disk snapshots are always crash-consistent.
                    if (d.snapshot === 'per-disk') expect(d.expected).toBe('crash');
                    n += 1;
                  }
    expect(n).toBe(2 * 2 * 2 * 2 * 2 * 4 * 3 * 3);
  });
});

describe('decidePreScriptFailure (§4: pre-script fails or times out)', () => {
  it.each([
    {
      name: 'exit code, continue -> file system',
      mode: 'continue' as const,
      failure: { kind: 'exit' as const, exitCode: 3 },
      expected: {
        action: 'continue',
        achieved: 'filesystem',
        reason: 'pre-script exited with 3: file-system-consistent',
      },
    },
    {
      name: 'timeout, continue -> file system',
      mode: 'continue' as const,
      failure: { kind: 'timeout' as const, timeoutSeconds: 30 },
      expected: {
        action: 'continue',
        achieved: 'filesystem',
        reason: 'pre-script timed out after 30s: file-system-consistent',
      },
    },
    {
      name: 'exit code, plan says fail -> fail the job',
      mode: 'fail' as const,
      failure: { kind: 'exit' as const, exitCode: 1 },
      expected: { action: 'fail', reason: 'pre-script exited with 1 and the plan says fail' },
    },
    {
      name: 'timeout, plan says fail -> fail the job',
      mode: 'fail' as const,
      failure: { kind: 'timeout' as const, timeoutSeconds: 5 },
      expected: { action: 'fail', reason: 'pre-script timed out after 5s and the plan says fail' },
    },
  ])('$name', ({ mode, failure, expected }) => {
    expect(decidePreScriptFailure({ onPreScriptFailure: mode }, failure)).toEqual(expected);
  });
});

describe('isEssdFamily', () => {
  it.each([
    ['cloud_essd', true],
    ['cloud_auto', true],
    ['cloud_essd_entry', true],
    ['cloud_efficiency', false],
    ['cloud_ssd', false],
    ['cloud', false],
    ['CLOUD_ESSD', false],
  ])('%s -> %s', (category, expected) => {
    expect(isEssdFamily(category)).toBe(expected);
  });
});
