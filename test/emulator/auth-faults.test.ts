import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ecs, REGION, ecsError, presignedUrl, startHarness, type Harness } from './helpers.js';

const exec = promisify(execFile);

describe('ECS emulator: request signing', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ snapshotBaseMs: 0, snapshotSpeedBytesPerSec: 0 });
  });
  afterAll(async () => {
    await h.stop();
  });

  const describeRegions = (c: Harness['ecs']): Promise<unknown> =>
    c.describeRegions(new Ecs.DescribeRegionsRequest({}));

  it('accepts V3 (ACS3-HMAC-SHA256) and v2 RPC (HMAC-SHA1) signatures', async () => {
    await describeRegions(h.ecs);
    await describeRegions(h.client({ signatureAlgorithm: 'v2' }));
    const calls = await h.emu.admin.calls({ action: 'DescribeRegions' });
    expect(calls.map((c) => c.signing)).toEqual(['v3', 'v2']);
    expect(calls.every((c) => c.ok)).toBe(true);
  });

  it('refuses an unknown access key id and a wrong secret in both styles', async () => {
    for (const signatureAlgorithm of ['ACS3-HMAC-SHA256', 'v2']) {
      const wrongId = await ecsError(
        describeRegions(h.client({ accessKeyId: 'LTAI-unknown', signatureAlgorithm })),
      );
      expect(wrongId).toMatchObject({ code: 'InvalidAccessKeyId.NotFound', statusCode: 404 });
      const wrongSecret = await ecsError(
        describeRegions(h.client({ accessKeySecret: 'not-the-secret', signatureAlgorithm })),
      );
      expect(wrongSecret).toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 400 });
    }
  });

  it('refuses a stale timestamp and a replayed nonce', async () => {
    const stale = await fetch(
      presignedUrl(h.emu, 'DescribeRegions', {}, { timestamp: new Date(Date.now() - 20 * 60_000) }),
    );
    expect(stale.status).toBe(400);
    expect(((await stale.json()) as { Code: string }).Code).toBe('InvalidTimeStamp.Expired');

    const url = presignedUrl(h.emu, 'DescribeRegions', {});
    const first = await fetch(url);
    const replay = await fetch(url);
    expect(first.status).toBe(200);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { Code: string }).Code).toBe('SignatureNonceUsed');
  });

  it('refuses a request whose parameters were changed after signing', async () => {
    const url = presignedUrl(h.emu, 'DescribeSnapshots', { DiskId: 'd-demoweb01sys' }).replace(
      'd-demoweb01sys',
      'd-demodb01sys',
    );
    const res = await fetch(url);
    expect(((await res.json()) as { Code: string }).Code).toBe('SignatureDoesNotMatch');
  });

  it('answers a pre-signed CreateSnapshotGroup GET sent with curl once', async () => {
    // Prepare
    const url = presignedUrl(h.emu, 'CreateSnapshotGroup', {
      InstanceId: 'i-demoweb01',
      Name: 'presigned-group',
      'Tag.1.Key': 'ecs-backup:job',
      'Tag.1.Value': 'job-presigned',
    });

    // Act
    const { stdout } = await exec('curl', ['-sS', url]);
    const replay = await exec('curl', ['-sS', url]);

    // Assess
    const body = JSON.parse(stdout) as { SnapshotGroupId: string; RequestId: string };
    expect(body.SnapshotGroupId).toMatch(/^ssg-/);
    expect(JSON.parse(replay.stdout)).toMatchObject({ Code: 'SignatureNonceUsed' });
    const groups = await h.ecs.describeSnapshotGroups(
      new Ecs.DescribeSnapshotGroupsRequest({
        regionId: REGION,
        tag: [{ key: 'ecs-backup:job', value: 'job-presigned' }],
      }),
    );
    expect(groups.body?.snapshotGroups?.snapshotGroup?.map((g) => g.snapshotGroupId)).toEqual([
      body.SnapshotGroupId,
    ]);
    const calls = await h.emu.admin.calls({ action: 'CreateSnapshotGroup' });
    expect(calls.some((c) => c.signing === 'v2-get' && c.ok)).toBe(true);
  });

  it('refuses unknown actions and other API versions', async () => {
    const unknown = await fetch(presignedUrl(h.emu, 'DescribeNothing', {}));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { Code: string }).Code).toBe('InvalidAction.NotFound');
    const version = await fetch(presignedUrl(h.emu, 'DescribeRegions', { Version: '2016-03-14' }));
    expect(((await version.json()) as { Code: string }).Code).toBe('InvalidVersion');
  });
});

describe('ECS emulator: STS token', () => {
  it('requires the configured security token in both signing styles', async () => {
    const h = await startHarness({ securityToken: 'sts-token-123' });
    try {
      for (const signatureAlgorithm of ['ACS3-HMAC-SHA256', 'v2']) {
        await h
          .client({ securityToken: 'sts-token-123', signatureAlgorithm })
          .describeRegions(new Ecs.DescribeRegionsRequest({}));
        const missing = await ecsError(
          h.client({ signatureAlgorithm }).describeRegions(new Ecs.DescribeRegionsRequest({})),
        );
        expect(missing.code).toBe('InvalidSecurityToken.Malformed');
        const wrong = await ecsError(
          h
            .client({ securityToken: 'sts-other', signatureAlgorithm })
            .describeRegions(new Ecs.DescribeRegionsRequest({})),
        );
        expect(wrong.code).toBe('InvalidSecurityToken.MismatchWithAccessKey');
      }
    } finally {
      await h.stop();
    }
  });
});

describe('ECS emulator: faults, limits and the call log', () => {
  let h: Harness;
  beforeAll(async () => {
    // One call a second: ten calls at once stay over the limit even when a busy machine spreads them.
    h = await startHarness({ rateLimits: { DescribeDisks: 1 } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers Throttling.User over a per-action rate limit, which the SDK raises as a throttling error', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        h.ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION })),
      ),
    );
    const refused = results
      .filter((r) => r.status === 'rejected')
      .map((r) => (r as PromiseRejectedResult).reason as { code: string; name: string });
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(5);
    expect(refused[0]).toMatchObject({ code: 'Throttling.User', name: 'ThrottlingError' });
  });

  it('throttles a fraction of calls when told to', async () => {
    await h.emu.admin.throttle({ action: 'DescribeRegions', fraction: 1 });
    const err = await ecsError(h.ecs.describeRegions(new Ecs.DescribeRegionsRequest({})));
    await h.emu.admin.throttle({ action: 'DescribeRegions', fraction: 0 });
    expect(err.code).toBe('Throttling.User');
    await h.ecs.describeRegions(new Ecs.DescribeRegionsRequest({}));
  });

  it('fails the next N calls of an action with the given code and status', async () => {
    await h.emu.admin.failNext({
      action: 'DescribeInstances',
      count: 2,
      code: 'ServiceUnavailable',
      status: 503,
    });
    const a = await ecsError(h.ecs.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: REGION })));
    const b = await ecsError(h.ecs.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: REGION })));
    const ok = await h.ecs.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: REGION }));
    expect(a).toMatchObject({ code: 'ServiceUnavailable', statusCode: 503 });
    expect(b.code).toBe('ServiceUnavailable');
    expect(ok.body?.totalCount).toBe(5);
  });

  it('delays answers of an action', async () => {
    await h.emu.admin.delay({ action: 'DescribeZones', ms: 300 });
    const started = Date.now();
    await h.ecs.describeZones(new Ecs.DescribeZonesRequest({ regionId: REGION }));
    await h.emu.admin.delay({ action: 'DescribeZones', ms: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('logs every call with its action, time and outcome, also over the admin HTTP API', async () => {
    const since = Date.now();
    await h.ecs.describeSnapshots(new Ecs.DescribeSnapshotsRequest({ regionId: REGION }));
    await ecsError(h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: 'd-missing' })));
    const res = await fetch(`${h.emu.url}/__admin/calls`, {
      method: 'POST',
      body: JSON.stringify({ since }),
    });
    const calls = (await res.json()) as { action: string; ok: boolean; code?: string; at: number }[];
    expect(calls.map((c) => [c.action, c.ok, c.code ?? null])).toEqual([
      ['DescribeSnapshots', true, null],
      ['CreateSnapshot', false, 'InvalidDiskId.NotFound'],
    ]);
    expect(calls.every((c) => c.at >= since)).toBe(true);
    const stats = (await (await fetch(`${h.emu.url}/__admin/stats`, { method: 'POST' })).json()) as {
      instances: number;
    };
    expect(stats.instances).toBe(5);
    const unknown = await fetch(`${h.emu.url}/__admin/nosuchmethod`, { method: 'POST' });
    expect(unknown.status).toBe(404);
  });
});
