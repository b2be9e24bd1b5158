import { describe, expect, it } from 'vitest';
import {
  decideConsistencyForInstance,
  type ConsistencyDecision,
  type DiskInfo,
  type InstanceFacts,
} from '../../../lib/domain/consistency.js';
import type { ConsistencyOptions } from '../../../lib/domain/model.js';

const crash: ConsistencyOptions = {
  applicationConsistent: false,
  fsFreeze: true,
  windowsWriters: true,
  timeoutSeconds: 30,
  onPreScriptFailure: 'continue',
  onAgentUnavailable: 'continue',
};
const app: ConsistencyOptions = { ...crash, applicationConsistent: true };
const essd: DiskInfo[] = [
  { diskId: 'd-sys', category: 'cloud_essd' },
  { diskId: 'd-data', category: 'cloud_auto' },
];
const mixed: DiskInfo[] = [
  { diskId: 'd-sys', category: 'cloud_essd' },
  { diskId: 'd-old', category: 'cloud_efficiency' },
];
const running: InstanceFacts = { os: 'linux', status: 'Running', agent: 'running' };

interface Row {
  name: string;
  facts: InstanceFacts;
  options: ConsistencyOptions;
  disks: DiskInfo[];
  expected: Partial<ConsistencyDecision>;
  reason: RegExp;
}

/** The override made once the start has looked at the instance: stopped, no agent, non-ESSD disks. */
const rows: Row[] = [
  {
    name: 'running Linux with the agent: the guest script runs (no override)',
    facts: running,
    options: app,
    disks: essd,
    expected: { requested: 'application', expected: 'application', method: 'guest-linux', snapshot: 'group' },
    reason: /checked in the guest/,
  },
  {
    name: 'stopped instance: crash-consistent group of a quiet instance, no agent install',
    facts: { ...running, status: 'Stopped' },
    options: app,
    disks: essd,
    expected: {
      requested: 'application',
      expected: 'crash',
      method: 'direct',
      snapshot: 'group',
      installAgent: false,
    },
    reason: /instance is Stopped: the guest script cannot run; crash-consistent snapshot of a quiet instance/,
  },
  {
    name: 'stopping instance: treated as quiet too',
    facts: { ...running, status: 'Stopping' },
    options: app,
    disks: essd,
    expected: { expected: 'crash', method: 'direct' },
    reason: /instance is Stopping/,
  },
  {
    name: 'stopped instance whose agent is missing: no install (it could not run anyway)',
    facts: { os: 'windows', status: 'Stopped', agent: 'missing' },
    options: app,
    disks: essd,
    expected: { expected: 'crash', method: 'direct', installAgent: false },
    reason: /quiet instance/,
  },
  {
    name: 'stopped instance with a non-ESSD disk: per-disk, and the per-disk reason wins',
    facts: { ...running, status: 'Stopped' },
    options: app,
    disks: mixed,
    expected: { expected: 'crash', method: 'direct', snapshot: 'per-disk' },
    reason: /not ESSD-family.*d-old \(cloud_efficiency\)/,
  },
  {
    name: 'running instance without the agent: install it, crash-consistent this time',
    facts: { ...running, agent: 'missing' },
    options: app,
    disks: essd,
    expected: { expected: 'crash', method: 'direct', installAgent: true },
    reason: /agent is missing: installing it/,
  },
  {
    name: 'running instance with a non-ESSD disk: per-disk crash-consistent, application asked',
    facts: running,
    options: app,
    disks: mixed,
    expected: { requested: 'application', expected: 'crash', snapshot: 'per-disk', method: 'direct' },
    reason: /application consistency needs a snapshot group/,
  },
  {
    name: 'crash consistency asked: a stopped instance changes nothing',
    facts: { ...running, status: 'Stopped' },
    options: crash,
    disks: essd,
    expected: { requested: 'crash', expected: 'crash', method: 'direct', snapshot: 'group' },
    reason: /application consistency is off/,
  },
  {
    name: 'stopped instance with no disk: still a failure',
    facts: { ...running, status: 'Stopped' },
    options: app,
    disks: [],
    expected: { method: 'fail', requested: 'application' },
    reason: /no disk/,
  },
];

describe('decideConsistencyForInstance', () => {
  it.each(rows)('$name', ({ facts, options, disks, expected, reason }) => {
    const decision = decideConsistencyForInstance(facts, options, disks, { groupDiskLimit: 16 });
    expect(decision).toMatchObject(expected);
    expect(decision.reason).toMatch(reason);
  });
});
