import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanup,
  DEFAULT_FREEZE_ORDER,
  events,
  frozenNow,
  runGuest,
  VALID_POST,
  VALID_PRE,
  type GuestRun,
} from './harness.js';

const runs: GuestRun[] = [];
async function run(c: Parameters<typeof runGuest>[0]): Promise<GuestRun> {
  const r = await runGuest(c);
  runs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of runs.splice(0)) await cleanup(r.dir);
});

function expectNothingFrozen(r: GuestRun): void {
  expect(r.frozen).toEqual([]);
  expect(events(r.log, 'freeze').sort()).toEqual(events(r.log, 'thaw').sort());
}

function curlLine(r: GuestRun): string | undefined {
  return r.log.find((l) => l.startsWith('curl '));
}

describe('linux guest script', () => {
  it('valid scripts: application-consistent, scripts around a freeze of every local read-write ext/xfs file system', async () => {
    // Act
    const r = await run({});

    // Assess
    expect(r.exitCode).toBe(0);
    expect(r.result).toMatchObject({
      consistency: 'application',
      reason: '',
      preExit: 0,
      postExit: 0,
      snapshotGroupId: 'ssg-fake0001',
      snapshotError: null,
      complete: true,
    });
    expect(r.result.freezeMs).toBeGreaterThanOrEqual(0);
    // Deepest first, / of the instance last; bind mount of the same device frozen once;
    // read-only, nfs, cifs, overlay, tmpfs and proc never touched.
    expect(events(r.log, 'freeze')).toEqual(DEFAULT_FREEZE_ORDER);
    expect(events(r.log, 'thaw')).toEqual([...DEFAULT_FREEZE_ORDER].reverse());
    const order = r.log.map((l) => l.split(' ')[0]);
    expect(order).toEqual(['pre', 'freeze', 'freeze', 'freeze', 'curl', 'thaw', 'thaw', 'thaw', 'post']);
    expect(r.log[0]).toBe('pre frozen=0');
    expect(r.log.at(-1)).toBe('post frozen=0');
    // The request went out while all three were frozen, with the URL on stdin, not in argv.
    expect(curlLine(r)).toContain('frozen=[');
    for (const mp of DEFAULT_FREEZE_ORDER) expect(curlLine(r)).toContain(mp);
    expect(curlLine(r)).toMatch(/args=\[-q -sS --max-time 5 -w \\n%\{http_code\} -K -\]/);
    expect(curlLine(r)).toContain('url=http://127.0.0.1:9/?Action=CreateSnapshotGroup&Signature=abc%3D');
    expectNothingFrozen(r);
    expect(r.stderr).toContain('not frozen: /srv/ecsb-archive (read-only)');
  });

  it('pre-script that is a symlink: file-system consistent, no script runs', async () => {
    const r = await run({ pre: { ...VALID_PRE, symlink: true } });

    expect(r.result).toMatchObject({
      consistency: 'filesystem',
      preExit: null,
      postExit: null,
      snapshotGroupId: 'ssg-fake0001',
    });
    expect(r.result.reason).toBe('pre-script: /tmp/prescript.sh is a symbolic link');
    expect(r.log.some((l) => l.startsWith('pre ') || l.startsWith('post '))).toBe(false);
    expect(events(r.log, 'freeze')).toEqual(DEFAULT_FREEZE_ORDER);
    expectNothingFrozen(r);
  });

  it('pre-script owned by another user (uid 1000): file-system consistent with the owner named', async () => {
    const r = await run({ pre: { ...VALID_PRE, uid: 1000 } });

    expect(r.result.consistency).toBe('filesystem');
    expect(r.result.reason).toBe('pre-script: /tmp/prescript.sh is owned by uid 1000, not root');
    expect(r.log.some((l) => l.startsWith('pre '))).toBe(false);
    expectNothingFrozen(r);
  });

  it.each([
    ['0755', 0o755],
    ['0777', 0o777],
    ['0600', 0o600],
  ])('post-script with mode %s: file-system consistent, neither script runs', async (shown, mode) => {
    const r = await run({ post: { ...VALID_POST, mode } });

    expect(r.result.consistency).toBe('filesystem');
    expect(r.result.reason).toBe(`post-script: /tmp/postscript.sh has mode ${shown}, not 0700`);
    expect(r.result.preExit).toBeNull();
    expect(r.log.some((l) => l.startsWith('pre ') || l.startsWith('post '))).toBe(false);
    expect(r.result.snapshotGroupId).toBe('ssg-fake0001');
    expectNothingFrozen(r);
  });

  it('missing scripts: file-system consistent, both named', async () => {
    const r = await run({ pre: null, post: null });

    expect(r.result.consistency).toBe('filesystem');
    expect(r.result.reason).toBe(
      'pre-script: /tmp/prescript.sh is missing; post-script: /tmp/postscript.sh is missing',
    );
    expectNothingFrozen(r);
  });

  it('pre-script exits 1 with onPreScriptFailure=continue: file-system consistent, snapshot taken, post-script runs', async () => {
    const r = await run({
      pre: { body: 'echo pre-ran >>"$ECSB_TEST_LOG"; echo "ECSB consistency=application"; exit 1' },
    });

    expect(r.result).toMatchObject({
      consistency: 'filesystem',
      reason: 'pre-script exited 1',
      preExit: 1,
      postExit: 0,
      snapshotGroupId: 'ssg-fake0001',
    });
    // Hook output is echoed with a prefix, so it can never pass for a result line.
    expect(r.stdout).toContain('[prescript] ECSB consistency=application');
    expect(events(r.log, 'freeze')).toEqual(DEFAULT_FREEZE_ORDER);
    expectNothingFrozen(r);
  });

  it('pre-script exits 1 with onPreScriptFailure=fail: no freeze, no snapshot request, post-script still runs', async () => {
    const r = await run({
      params: { onPreScriptFailure: 'fail' },
      pre: { body: 'exit 1' },
    });

    expect(r.result.snapshotGroupId).toBeNull();
    expect(r.result.snapshotError).toEqual({ code: 'PreScriptFailed', message: 'pre-script exited 1' });
    expect(r.result).toMatchObject({
      consistency: 'crash',
      preExit: 1,
      postExit: 0,
      freezeMs: null,
      complete: true,
    });
    expect(curlLine(r)).toBeUndefined();
    expect(events(r.log, 'freeze')).toEqual([]);
    expect(r.log).toEqual(['post frozen=0']);
  });

  it('pre-script hanging past its timeout is killed: file-system consistent with the timeout named', async () => {
    const r = await run({
      params: { preScriptTimeoutSeconds: 1 },
      pre: { body: 'echo pre-start >>"$ECSB_TEST_LOG"; sleep 60; echo pre-end >>"$ECSB_TEST_LOG"' },
    });

    expect(r.result).toMatchObject({
      consistency: 'filesystem',
      reason: 'pre-script timed out after 1s',
      preExit: 124,
      postExit: 0,
      snapshotGroupId: 'ssg-fake0001',
    });
    expect(r.log).not.toContain('pre-end');
    // Far below the 60 s the pre-script wanted (generous bound for a loaded machine).
    expect(r.elapsedMs).toBeLessThan(20_000);
    expectNothingFrozen(r);
  });

  it('post-script failing after the thaw: still application consistent, the reason names it', async () => {
    const r = await run({
      post: { ...VALID_POST, body: 'echo "post frozen=${#}" >>"$ECSB_TEST_LOG"; exit 3' },
    });

    expect(r.result).toMatchObject({
      consistency: 'application',
      reason: 'post-script exited 3 after the thaw; the snapshot is unaffected',
      preExit: 0,
      postExit: 3,
      snapshotGroupId: 'ssg-fake0001',
    });
    // Everything was thawed before the post-script ran.
    const order = r.log.map((l) => l.split(' ')[0]);
    expect(order.lastIndexOf('thaw')).toBeLessThan(order.lastIndexOf('post'));
    expectNothingFrozen(r);
  });

  it('post-script hanging past its timeout is killed: application consistent, the timeout named', async () => {
    const r = await run({
      params: { postScriptTimeoutSeconds: 1 },
      post: { body: 'echo post-start >>"$ECSB_TEST_LOG"; sleep 60; echo post-end >>"$ECSB_TEST_LOG"' },
    });

    expect(r.result).toMatchObject({
      consistency: 'application',
      reason: 'post-script timed out after 1s after the thaw; the snapshot is unaffected',
      postExit: 124,
      snapshotGroupId: 'ssg-fake0001',
    });
    expect(r.log).toContain('post-start');
    expect(r.log).not.toContain('post-end');
    expect(r.elapsedMs).toBeLessThan(20_000);
    expectNothingFrozen(r);
  });

  it('snapshot request refused by ECS: the error is reported and everything is thawed', async () => {
    const r = await run({ curl: 'api-error' });

    expect(r.result.snapshotGroupId).toBeNull();
    expect(r.result.snapshotError).toEqual({
      code: 'Throttling.User',
      message: 'Request was denied due to user flow control.',
    });
    expect(r.result.complete).toBe(true);
    expect(r.result.postExit).toBe(0);
    expectNothingFrozen(r);
  });

  it('snapshot request without an answer (connection refused): NetworkError, everything thawed', async () => {
    const r = await run({ curl: 'network' });

    expect(r.result.snapshotError?.code).toBe('NetworkError');
    expect(r.result.snapshotError?.message).toMatch(/^curl exit 7: curl: \(7\) Failed to connect/);
    expect(events(r.log, 'thaw')).toEqual([...DEFAULT_FREEZE_ORDER].reverse());
    expectNothingFrozen(r);
  });

  it('SIGKILL of the whole process group mid-freeze: the watchdog still thaws everything after the timeout', async () => {
    let killedAt = 0;
    const r = await run({
      // The kill must land while curl hangs and before the watchdog fires: a 5 s window, so a busy
      // machine that is slow to see the curl line still kills mid-freeze.
      params: { timeoutSeconds: 5, requestTimeoutSeconds: 5 },
      curl: 'hang',
      async during(g) {
        await g.waitForLog((lines) => lines.some((l) => l.startsWith('curl ')));
        // As Cloud Assistant does on timeout: the script's whole process group, no chance to trap.
        process.kill(-g.pid, 'SIGKILL');
        killedAt = performance.now();
        expect((await frozenNow(g.dir)).length).toBe(3);
        await g.waitForLog((lines) => events(lines, 'thaw').length === 3, 20_000);
      },
    });

    expect(r.signal).toBe('SIGKILL');
    expect(r.result.complete).toBe(false);
    expect(killedAt).toBeGreaterThan(0);
    // The thaw came from the watchdog (main script was dead), in reverse freeze order.
    expect(events(r.log, 'thaw')).toEqual([...DEFAULT_FREEZE_ORDER].reverse());
    expectNothingFrozen(r);
  });

  it('SIGTERM mid-freeze: the trap thaws at once and still prints a crash result', async () => {
    const r = await run({
      // curl waits until the test releases it (or 20 s), so the signal always arrives mid-request.
      params: { timeoutSeconds: 30, requestTimeoutSeconds: 20 },
      curl: 'hang',
      async during(g) {
        await g.waitForLog((lines) => lines.some((l) => l.startsWith('curl ')));
        process.kill(g.pid, 'SIGTERM');
        await g.releaseCurl();
      },
    });

    // Thawed by the trap well before the 30 s watchdog.
    expect(r.elapsedMs).toBeLessThan(25_000);
    expect(r.result.consistency).toBe('crash');
    expect(r.result.reason).toMatch(/^guest script interrupted by SIGTERM/);
    // The trap runs as soon as curl returns, before its answer is read: the outcome is unknown.
    expect(r.result.snapshotError?.code).toBe('Interrupted');
    expect(r.result.complete).toBe(true);
    expectNothingFrozen(r);
  });

  it('a file system that refuses to freeze: everything already frozen is thawed and the snapshot is crash-consistent', async () => {
    const r = await run({ freezeFailOn: '/srv/ecsb-root/data' });

    expect(r.result.consistency).toBe('crash');
    expect(r.result.reason).toMatch(
      /^fsfreeze -f \/srv\/ecsb-root\/data failed: fsfreeze: .*Operation not supported/,
    );
    expect(r.result.freezeMs).toBeNull();
    expect(r.result.snapshotGroupId).toBe('ssg-fake0001');
    // The snapshot was requested only after the partial freeze was undone.
    expect(curlLine(r)).toContain('frozen=[]');
    expect(events(r.log, 'thaw')).toEqual(['/srv/ecsb-root/data/db files']);
    expectNothingFrozen(r);
  });

  it('application consistency off, freeze on: file-system consistent, the scripts are not run', async () => {
    const r = await run({ params: { applicationConsistent: false } });

    expect(r.result).toMatchObject({ consistency: 'filesystem', reason: '', preExit: null, postExit: null });
    expect(r.log.some((l) => l.startsWith('pre ') || l.startsWith('post '))).toBe(false);
    expect(events(r.log, 'freeze')).toEqual(DEFAULT_FREEZE_ORDER);
    expectNothingFrozen(r);
  });

  it('only network, pseudo and read-only file systems: nothing frozen, crash-consistent with the reason', async () => {
    const r = await run({
      mounts: [
        'server:/vol /mnt/n nfs rw 0 0',
        'tmpfs /dev/shm tmpfs rw 0 0',
        '/dev/vdz /srv/ecsb-ro xfs ro,noatime 0 0',
        'garbage line',
        '',
      ].join('\n'),
    });

    expect(events(r.log, 'freeze')).toEqual([]);
    expect(r.result.consistency).toBe('crash');
    expect(r.result.reason).toMatch(/^no freezable local file system/);
    expect(r.result.snapshotGroupId).toBe('ssg-fake0001');
    expect(r.result.preExit).toBe(0);
  });

  it('the rendered script fits Cloud Assistant and quotes a hostile URL so bash takes it literally', async () => {
    const r = await run({
      params: { snapshotUrl: "http://127.0.0.1:9/?a='$(touch${IFS}/tmp/pwned)'&b=`id`;c=$HOME" },
    });

    expect(curlLine(r)).toContain("url=http://127.0.0.1:9/?a='$(touch${IFS}/tmp/pwned)'&b=`id`;c=$HOME");
    expect(r.result.snapshotGroupId).toBe('ssg-fake0001');
    expect(existsSync(path.join(r.dir, 'tmp', 'pwned'))).toBe(false);
  });
});
