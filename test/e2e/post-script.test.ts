import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_TIMEOUT_MS, finished, protect, startTestCloud, type TestCloud } from './support.js';

const OK = '#!/bin/bash\nexit 0\n';

/**
 * A Linux post-script that fails or hangs, run for real by the emulator's bash sandbox: it runs
 * after the thaw, so the backup keeps the consistency it achieved, nothing stays frozen, and the
 * job says what went wrong.
 */
describe('post-script failing or hanging after the thaw', { timeout: E2E_TIMEOUT_MS }, () => {
  let cloud: TestCloud;
  beforeAll(async () => {
    cloud = await startTestCloud({ timers: false });
  });
  afterAll(async () => {
    await cloud.dispose();
  });

  async function backupWithPost(post: string) {
    const { instanceId, diskIds } = await cloud.emulator.admin.addInstance({
      osType: 'linux',
      status: 'Running',
      disks: [{ type: 'system', category: 'cloud_essd', sizeGiB: 40, files: { 'etc/hostname': 'x\n' } }],
      tmp: [
        { path: 'prescript.sh', content: OK, owner: 'root', mode: '0700' },
        { path: 'postscript.sh', content: post, owner: 'root', mode: '0700' },
      ],
    });
    await cloud.emulator.admin.updateInstance({
      instanceId,
      mounts: [{ device: '/dev/vda1', mountPoint: '/', fsType: 'ext4', diskId: diskIds[0]! }],
    });
    const { jobId } = await protect(cloud, instanceId, {
      retention: { value: 7, unit: 'days' },
      consistency: { applicationConsistent: true, fsFreeze: true, timeoutSeconds: 2 },
    });
    const job = await finished(cloud, jobId!);
    const freezes = await cloud.emulator.admin.freezeLog({ instanceId });
    const frozen = await cloud.emulator.admin.frozen({ instanceId });
    return { job, freezes, frozen };
  }

  it.each([
    ['exits 3', '#!/bin/bash\necho resuming\nexit 3\n', 'post-script exited 3 after the thaw'],
    ['hangs past its timeout', '#!/bin/bash\nsleep 60\n', 'post-script timed out after 2s after the thaw'],
  ])(
    'post-script %s: COMPLETE, application consistent, thawed, and the job says why',
    async (_, post, why) => {
      const { job, freezes, frozen } = await backupWithPost(post);

      expect(job.status, job.reason ?? '').toBe('COMPLETE');
      expect(job.state['guest']).toMatchObject({ achieved: 'application' });
      expect(JSON.stringify(job.state['notes'])).toContain(why);
      expect(frozen).toEqual([]);
      expect(freezes.filter((f) => f.ok).map((f) => `${f.action} ${f.mountPoint}`)).toEqual([
        'freeze /',
        'thaw /',
      ]);
    },
  );
});
