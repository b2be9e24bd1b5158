import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderLinuxBackupScript } from '../../lib/guest/render.js';
import { parseGuestResult, type GuestResult } from '../../lib/guest/result.js';
import type { SeedTmpFile } from '../../local/ecs-emulator/index.js';
import { Ecs, REGION, presignedUrl, startHarness, waitFor, type Harness } from './helpers.js';

const OK = '#!/bin/bash\nexit 0\n';
const VALID: SeedTmpFile = { path: 'prescript.sh', content: OK, owner: 'root', mode: '0700' };

/**
 * The simulated guest (no namespace available, or forced) must judge the pre/post-scripts exactly
 * as the real script does in the sandbox: the same instance /tmp gives the same reason in both.
 */
describe('ECS emulator: the simulated Linux guest against the real one', () => {
  let real: Harness;
  let simulated: Harness;
  beforeAll(async () => {
    [real, simulated] = await Promise.all([startHarness(), startHarness({ guest: 'simulated' })]);
  });
  afterAll(async () => {
    await Promise.all([real.stop(), simulated.stop()]);
  });

  async function backup(h: Harness, pre: SeedTmpFile): Promise<GuestResult & { status: string }> {
    await h.emu.admin.setTmpFile({ instanceId: 'i-demoweb01', ...pre });
    const script = renderLinuxBackupScript({
      snapshotUrl: presignedUrl(h.emu, 'CreateSnapshotGroup', { InstanceId: 'i-demoweb01' }),
      applicationConsistent: true,
      fsFreeze: true,
      timeoutSeconds: 30,
      onPreScriptFailure: 'continue',
    });
    const run = await h.ecs.runCommand(
      new Ecs.RunCommandRequest({
        regionId: REGION,
        type: 'RunShellScript',
        commandContent: script,
        instanceId: ['i-demoweb01'],
        timeout: 60,
      }),
    );
    const result = await waitFor(async () => {
      const r = await h.ecs.describeInvocationResults(
        new Ecs.DescribeInvocationResultsRequest({
          regionId: REGION,
          invokeId: run.body!.invokeId!,
          contentEncoding: 'PlainText',
        }),
      );
      const one = r.body?.invocation?.invocationResults?.invocationResult?.[0];
      return one && !['Running', 'Pending'].includes(one.invocationStatus ?? '') ? one : undefined;
    }, 30_000);
    await h.emu.admin.completeSnapshots();
    return { ...parseGuestResult(result.output ?? ''), status: result.invocationStatus ?? '' };
  }

  it.each<[string, SeedTmpFile]>([
    ['world-writable', { ...VALID, mode: '0777' }],
    ['mode 0755', { ...VALID, mode: '0755' }],
    ['owned by a user', { ...VALID, owner: 'user' }],
    ['owned by uid 42', { ...VALID, owner: 42 }],
    ['a symbolic link', { path: 'prescript.sh', symlink: '/tmp/postscript.sh' }],
  ])('pre-script %s: the same reason, file-system consistent', async (_, pre) => {
    const [r, s] = [await backup(real, pre), await backup(simulated, pre)];

    expect(r.consistency).toBe('filesystem');
    expect(s.consistency).toBe('filesystem');
    expect(r.reason).toMatch(/^pre-script: /);
    expect(s.reason).toBe(r.reason);
    expect(s.snapshotGroupId).toMatch(/^ssg-/);
  });

  it('valid scripts: application consistent for real, file-system consistent simulated, and it says why', async () => {
    const [r, s] = [await backup(real, VALID), await backup(simulated, VALID)];

    expect(r).toMatchObject({ consistency: 'application', reason: '', preExit: 0, postExit: 0 });
    expect(s).toMatchObject({ consistency: 'filesystem', preExit: null, postExit: null, status: 'Success' });
    expect(s.reason).toBe(
      'pre- and post-scripts are not run: Cloud Assistant is simulated (forced by the setting ECS_EMULATOR_GUEST=simulated)',
    );
    const freezes = await simulated.emu.admin.freezeLog({ instanceId: 'i-demoweb01' });
    expect(
      freezes
        .filter((f) => f.ok)
        .map((f) => `${f.action} ${f.mountPoint}`)
        .slice(-4),
    ).toEqual(['freeze /data', 'freeze /', 'thaw /', 'thaw /data']);
    expect(await simulated.emu.admin.frozen()).toEqual([]);
  });

  it('refuses any other shell script in the simulated mode, saying why', async () => {
    const run = await simulated.ecs.runCommand(
      new Ecs.RunCommandRequest({
        regionId: REGION,
        type: 'RunShellScript',
        commandContent: 'echo hi',
        instanceId: ['i-demoweb01'],
      }),
    );
    const result = await waitFor(async () => {
      const r = await simulated.ecs.describeInvocationResults(
        new Ecs.DescribeInvocationResultsRequest({
          regionId: REGION,
          invokeId: run.body!.invokeId!,
          contentEncoding: 'PlainText',
        }),
      );
      const one = r.body?.invocation?.invocationResults?.invocationResult?.[0];
      return one && !['Running', 'Pending'].includes(one.invocationStatus ?? '') ? one : undefined;
    });

    expect(result).toMatchObject({ invocationStatus: 'Failed', exitCode: 127 });
    expect(result.output).toContain('only the ecs-backup script is simulated');
  });
});
