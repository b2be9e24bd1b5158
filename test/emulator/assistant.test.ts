import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ecs, REGION, ecsError, presignedUrl, startHarness, waitFor, type Harness } from './helpers.js';

interface Result {
  invocationStatus?: string;
  exitCode?: number;
  output?: string;
  dropped?: number;
  errorCode?: string;
}

describe('ECS emulator: Cloud Assistant runs real scripts in an instance sandbox', () => {
  let h: Harness;
  beforeAll(async () => {
    // Long enough that the Pending state is always seen right after RunCommand on a busy machine.
    h = await startHarness({ snapshotBaseMs: 0, snapshotSpeedBytesPerSec: 0, agentDeliveryTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await h.stop();
  });

  const run = async (
    instanceId: string,
    script: string,
    extra: Record<string, unknown> = {},
  ): Promise<string> => {
    const r = await h.ecs.runCommand(
      new Ecs.RunCommandRequest({
        regionId: REGION,
        type: 'RunShellScript',
        commandContent: script,
        instanceId: [instanceId],
        timeout: 20,
        ...extra,
      }),
    );
    return r.body?.invokeId as string;
  };
  const result = async (invokeId: string, plain = true): Promise<Result> => {
    const r = await h.ecs.describeInvocationResults(
      new Ecs.DescribeInvocationResultsRequest({
        regionId: REGION,
        invokeId,
        contentEncoding: plain ? 'PlainText' : undefined,
      }),
    );
    return (r.body?.invocation?.invocationResults?.invocationResult?.[0] ?? {}) as Result;
  };
  const finished = (invokeId: string, plain = true): Promise<Result> =>
    waitFor(async () => {
      const r = await result(invokeId, plain);
      return r.invocationStatus === 'Running' || r.invocationStatus === 'Pending' ? undefined : r;
    }, 20_000);

  it('returns output (base64 unless PlainText) and the exit code of a shell script', async () => {
    const id = await run(
      'i-demoweb01',
      'echo "hello from $(hostname -s >/dev/null; echo guest)"; echo oops >&2; exit 3',
    );
    const plain = await finished(id);
    const encoded = await result(id, false);
    expect(plain).toMatchObject({ invocationStatus: 'Failed', exitCode: 3, errorCode: 'ExitCodeNonzero' });
    expect(plain.output).toBe('hello from guest\noops\n');
    expect(Buffer.from(encoded.output ?? '', 'base64').toString('utf8')).toBe('hello from guest\noops\n');

    const ok = await finished(
      await run('i-demoweb01', Buffer.from('echo fine').toString('base64'), { contentEncoding: 'Base64' }),
    );
    expect(ok).toMatchObject({ invocationStatus: 'Success', exitCode: 0, output: 'fine\n' });

    const list = await h.ecs.describeInvocations(
      new Ecs.DescribeInvocationsRequest({
        regionId: REGION,
        invokeId: id,
        includeOutput: true,
        contentEncoding: 'PlainText',
      }),
    );
    const inv = list.body?.invocations?.invocation?.[0];
    expect(inv).toMatchObject({ invokeId: id, invocationStatus: 'Failed', commandType: 'RunShellScript' });
    expect(inv?.invokeInstances?.invokeInstance?.[0]).toMatchObject({
      instanceId: 'i-demoweb01',
      exitCode: 3,
    });
  });

  it('runs a script close to the 24 KB limit and refuses a larger one', async () => {
    const filler = `# ${'x'.repeat(17_000)}\n`;
    const big = await finished(await run('i-demoweb01', `${filler}echo big-ok`));
    expect(big).toMatchObject({ invocationStatus: 'Success', output: 'big-ok\n' });
    const tooBig = await ecsError(run('i-demoweb01', `# ${'x'.repeat(19_000)}\necho no`));
    expect(tooBig.code).toBe('CmdContent.ExceedLimit');
  });

  it('shows the instance /tmp with modelled owners, modes and symlinks, never the host /tmp', async () => {
    // Prepare
    const hostMarker = fs.mkdtempSync(path.join(os.tmpdir(), 'host-only-'));
    await h.emu.admin.setTmpFile({ instanceId: 'i-demodb01', path: 'postscript.sh', symlink: '/etc/passwd' });
    await h.emu.admin.setTmpFile({
      instanceId: 'i-demodb01',
      path: 'notes.txt',
      content: 'x',
      owner: 'user',
      mode: '0600',
    });

    // Act
    const id = await run(
      'i-demodb01',
      `stat -c '%n %U:%u %a %F' /tmp/prescript.sh /tmp/notes.txt; [ -L /tmp/postscript.sh ] && echo symlink; [ -e ${hostMarker} ] && echo host-visible || echo host-hidden`,
    );
    const r = await finished(id);
    fs.rmSync(hostMarker, { recursive: true, force: true });

    // Assess
    expect(r.output).toContain('/tmp/prescript.sh root:0 777 regular file');
    expect(r.output).toContain('/tmp/notes.txt');
    expect(r.output).toMatch(/\/tmp\/notes\.txt \S+:1000 600 regular file/);
    expect(r.output).toContain('symlink');
    expect(r.output).toContain('host-hidden');
  });

  it('records freeze and thaw through the fsfreeze shim, refusing non-freezable and unknown file systems', async () => {
    const id = await run(
      'i-demoweb01',
      [
        'grep -c . "$ECSB_MOUNTS_FILE"',
        'fsfreeze -f /data && echo froze-data',
        'fsfreeze -f /data; echo again=$?',
        '/usr/sbin/fsfreeze --freeze /; echo root=$?',
        'fsfreeze -f /mnt/share; echo nfs=$?',
        'fsfreeze -f /nowhere; echo unknown=$?',
        'sleep 0.2',
        '/sbin/fsfreeze -u /; fsfreeze --unfreeze /data/',
        'fsfreeze -u /data; echo thaw-again=$?',
      ].join('\n'),
    );
    const r = await finished(id);
    expect(r.invocationStatus).toBe('Success');
    expect(r.output).toContain('4\nfroze-data\n');
    expect(r.output).toContain('again=1');
    expect(r.output).toContain('root=0');
    expect(r.output).toContain('nfs=1');
    expect(r.output).toContain('unknown=1');
    expect(r.output).toContain('thaw-again=1');

    const log = (await h.emu.admin.freezeLog({ instanceId: 'i-demoweb01' })).filter((e) => e.invokeId === id);
    const ok = log.filter((e) => e.ok).map((e) => `${e.action} ${e.mountPoint}`);
    expect(ok).toEqual(['freeze /data', 'freeze /', 'thaw /', 'thaw /data']);
    const freezeAt = log.find((e) => e.ok && e.mountPoint === '/data' && e.action === 'freeze')?.at ?? 0;
    const thawAt = log.find((e) => e.ok && e.mountPoint === '/data' && e.action === 'thaw')?.at ?? 0;
    expect(thawAt - freezeAt).toBeGreaterThanOrEqual(150);
    expect(log.find((e) => e.mountPoint === '/mnt/share')?.error).toContain('Operation not supported');
    expect(await h.emu.admin.frozen({ instanceId: 'i-demoweb01' })).toEqual([]);
  });

  it('kills a script that exceeds its Timeout, while a setsid watchdog survives and thaws', async () => {
    const started = Date.now();
    // The watchdog thaws once the script is gone, so the thaw proves it outlived the kill; the
    // Timeout leaves the sandbox set-up and the freeze call seconds to finish on a busy machine.
    const id = await run(
      'i-demoweb01',
      [
        'fsfreeze -f /data',
        'setsid bash -c "while kill -0 $$ 2>/dev/null; do sleep 0.1; done; fsfreeze -u /data" >/dev/null 2>&1 < /dev/null &',
        'echo waiting',
        'sleep 30',
        'echo never',
      ].join('\n'),
      { timeout: 5 },
    );
    const r = await finished(id);
    expect(r).toMatchObject({
      invocationStatus: 'Timeout',
      errorCode: 'ExecutionTimeout',
      output: 'waiting\n',
    });
    // Killed, not left to finish its 30 s sleep.
    expect(Date.now() - started).toBeLessThan(25_000);
    await waitFor(
      async () => ((await h.emu.admin.frozen({ instanceId: 'i-demoweb01' })).length === 0 ? true : undefined),
      10_000,
    );
    const thaw = (await h.emu.admin.freezeLog({ instanceId: 'i-demoweb01' })).filter(
      (e) => e.invokeId === id && e.action === 'thaw' && e.ok,
    );
    expect(thaw).toHaveLength(1);
    // Not before the agent killed the script at its 5 s Timeout.
    expect(thaw[0]!.at - started).toBeGreaterThanOrEqual(5_000);
  });

  it('keeps the first 24 KB of output and reports the rest as Dropped', async () => {
    const r = await finished(await run('i-demoweb01', "head -c 30000 /dev/zero | tr '\\0' a"));
    expect(r.output).toHaveLength(24 * 1024);
    expect(r.dropped).toBe(30000 - 24 * 1024);
  });

  it('mounts an attached disk read-only from its real file tree through the mount shim', async () => {
    // Prepare
    const { diskId } = await h.emu.admin.addDisk({
      instanceId: 'i-demoweb01',
      category: 'cloud_essd',
      files: { 'export/hello.txt': 'hi from disk' },
    });
    const disks = await h.ecs.describeDisks(
      new Ecs.DescribeDisksRequest({ regionId: REGION, diskIds: JSON.stringify([diskId]) }),
    );
    const guestDevice = (disks.body?.disks?.disk?.[0]?.device ?? '').replace('/dev/xvd', '/dev/vd');

    // Act
    const r = await finished(
      await run(
        'i-demoweb01',
        [
          'mkdir -p /mnt/restore',
          `mount -o ro ${guestDevice} /mnt/restore || exit 9`,
          'cat /mnt/restore/export/hello.txt; echo',
          'grep -c /mnt/restore "$ECSB_MOUNTS_FILE"',
          'touch /mnt/restore/new 2>/dev/null && echo writable || echo read-only',
          'umount /mnt/restore && echo unmounted',
          'mount /dev/vdz /mnt/restore; echo missing=$?',
        ].join('\n'),
      ),
    );

    // Assess
    expect(r.invocationStatus).toBe('Success');
    expect(r.output).toContain('hi from disk\n1\nread-only\nunmounted\n');
    expect(r.output).toContain('missing=32');
    const mounts = await h.emu.admin.mountLog({ instanceId: 'i-demoweb01' });
    expect(mounts.filter((m) => m.ok).map((m) => m.action)).toEqual(['mount', 'umount']);
    expect(await h.emu.admin.listFiles({ diskId })).toEqual([
      expect.objectContaining({ path: 'export/hello.txt' }),
    ]);
  });

  it('answers as ECS for an instance without the agent, a stopped one and a wrong script type', async () => {
    const noAgent = await finished(await run('i-demolegacy01', 'echo hi'));
    expect(noAgent).toMatchObject({ invocationStatus: 'Aborted', errorCode: 'ClientNotRunning' });
    const stopped = await finished(await run('i-demobatch01', 'echo hi'));
    expect(stopped).toMatchObject({ invocationStatus: 'Aborted', errorCode: 'InstanceNotRunning' });
    const wrongType = await finished(await run('i-demowin01', 'echo hi'));
    expect(wrongType).toMatchObject({ invocationStatus: 'Invalid', errorCode: 'CommandNotApplicable' });
    const unknown = await ecsError(run('i-nosuch', 'echo'));
    expect(unknown.code).toBe('InvalidInstance.NotFound');
  });

  it('leaves an unresponsive agent Pending until delivery times out, then Aborted', async () => {
    await h.emu.admin.setAgent({ instanceId: 'i-demodb01', responsive: false });
    const id = await run('i-demodb01', 'echo hi');
    expect((await result(id)).invocationStatus).toBe('Pending');
    const r = await finished(id);
    await h.emu.admin.setAgent({ instanceId: 'i-demodb01', responsive: true });
    expect(r).toMatchObject({ invocationStatus: 'Aborted', errorCode: 'ClientNotResponse' });
  });

  it('makes an installed agent work only after a reboot', async () => {
    const status = async (): Promise<string | undefined> => {
      const r = await h.ecs.describeCloudAssistantStatus(
        new Ecs.DescribeCloudAssistantStatusRequest({ regionId: REGION, instanceId: ['i-demolegacy01'] }),
      );
      return r.body?.instanceCloudAssistantStatusSet?.instanceCloudAssistantStatus?.[0]?.cloudAssistantStatus;
    };
    expect(await status()).toBe('false');
    await h.ecs.installCloudAssistant(
      new Ecs.InstallCloudAssistantRequest({ regionId: REGION, instanceId: ['i-demolegacy01'] }),
    );
    expect(await status()).toBe('false');
    expect((await finished(await run('i-demolegacy01', 'echo hi'))).errorCode).toBe('ClientNotRunning');
    await h.ecs.rebootInstance(new Ecs.RebootInstanceRequest({ instanceId: 'i-demolegacy01' }));
    await waitFor(async () => ((await status()) === 'true' ? true : undefined));
    expect(await finished(await run('i-demolegacy01', 'echo agent up'))).toMatchObject({
      invocationStatus: 'Success',
      output: 'agent up\n',
    });
  });

  it('simulates VSS on Windows from the parameter block and sends the snapshot request itself', async () => {
    // Prepare
    const url = presignedUrl(h.emu, 'CreateSnapshotGroup', { InstanceId: 'i-demowin01', Name: 'vss-group' });
    const script = [
      `$SnapshotUrl = '${url}'`,
      '$Writers = $false',
      '$TimeoutSeconds = 10',
      'Write-Output "the rest is simulated"',
    ].join('\r\n');

    // Act
    const r = await h.ecs.runCommand(
      new Ecs.RunCommandRequest({
        regionId: REGION,
        type: 'RunPowerShellScript',
        commandContent: script,
        instanceId: ['i-demowin01'],
      }),
    );
    const res = await finished(r.body?.invokeId as string);

    // Assess
    expect(res.invocationStatus).toBe('Success');
    const lines = Object.fromEntries(
      (res.output ?? '')
        .split(/\r?\n/)
        .filter((l) => l.startsWith('ECSB '))
        .map((l) => {
          const kv = l.slice(5);
          const eq = kv.indexOf('=');
          return [kv.slice(0, eq), kv.slice(eq + 1)];
        }),
    );
    expect(lines['consistency']).toBe('filesystem');
    expect(lines['snapshot_group_id']).toMatch(/^ssg-/);
    expect(lines['freeze_ms']).toMatch(/^\d+$/);
    const vss = (await h.emu.admin.freezeLog({ instanceId: 'i-demowin01' })).filter(
      (e) => e.source === 'vss',
    );
    expect(vss.map((e) => `${e.action} ${e.mountPoint} ${String(e.writers)}`)).toEqual([
      'freeze C:\\ false',
      'freeze D:\\ false',
      'thaw C:\\ false',
      'thaw D:\\ false',
    ]);
  });
});
