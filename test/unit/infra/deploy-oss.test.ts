import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredState, sha256, type DeployConfig } from '../../../infra/deploy/desired.js';
import { keyOf, planChanges, type Resource } from '../../../infra/deploy/plan.js';
import { ossBucketProvider } from '../../../infra/deploy/providers-platform.js';

const KEY = { accessKeyId: 'AK-deploy', accessKeySecret: 'deploy-secret' };
const config: DeployConfig = {
  region: 'cn-hangzhou',
  accountId: '1234567890123456',
  name: 'ecs-backup',
  tablestoreInstance: 'ecs-backup',
  exportsBucket: 'ecs-backup-exports',
  exportsExpireDays: 7,
  logProject: 'p',
  logstore: 'functions',
  apiTokenSecret: 's',
  apiTokenSha256: sha256('t'),
  codeChecksums: { api: '1', scheduler: '2', worker: '3', retention: '4' },
};
const bucket = {
  ...desiredState(config).find((r) => keyOf(r) === 'oss.bucket/ecs-backup-exports')!,
  dependsOn: [],
} as Resource;

/**
 * An OSS endpoint that checks each request's signature the way OSS documents it (HMAC-SHA1 over
 * verb, Content-MD5, Content-Type, Date, x-oss-* headers and the resource), so a header signed
 * differently from how it is sent fails here, and keeps the bucket and its lifecycle rules.
 */
function fakeOss() {
  const state: { exists: boolean; acl?: string; lifecycle?: string } = { exists: false };
  const refused: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const h = (n: string) => String(req.headers[n] ?? '');
      const oss = Object.keys(req.headers)
        .filter((k) => k.startsWith('x-oss-'))
        .sort()
        .map((k) => `${k}:${h(k)}`);
      const sub = (req.url ?? '/').split('?')[1];
      const resource = `/ecs-backup-exports/${sub ? `?${sub}` : ''}`;
      const toSign = [req.method, h('content-md5'), h('content-type'), h('date'), ...oss, resource].join(
        '\n',
      );
      const expected = `OSS ${KEY.accessKeyId}:${createHmac('sha1', KEY.accessKeySecret).update(toSign).digest('base64')}`;
      const md5ok = body === '' || h('content-md5') === createHash('md5').update(body).digest('base64');
      if (h('authorization') !== expected || !md5ok) {
        refused.push(`${req.method} ${req.url}`);
        res.writeHead(403).end('<Error><Code>SignatureDoesNotMatch</Code></Error>');
        return;
      }
      if (req.method === 'GET' && !state.exists)
        return void res.writeHead(404).end('<Error><Code>NoSuchBucket</Code></Error>');
      if (req.method === 'PUT' && sub === undefined) {
        state.exists = true;
        state.acl = h('x-oss-acl');
        return void res.writeHead(200).end();
      }
      if (req.method === 'PUT' && sub === 'lifecycle') {
        state.lifecycle = body;
        return void res.writeHead(200).end();
      }
      if (req.method === 'GET' && sub === 'bucketInfo')
        return void res
          .writeHead(200)
          .end(
            `<BucketInfo><Bucket><AccessControlList><Grant>${state.acl}</Grant></AccessControlList><StorageClass>Standard</StorageClass></Bucket></BucketInfo>`,
          );
      if (req.method === 'GET' && sub === 'lifecycle')
        return void res.writeHead(200).end(state.lifecycle ?? '<LifecycleConfiguration/>');
      res.writeHead(400).end();
    });
  });
  return { server, state, refused };
}

describe('the OSS bucket provider', () => {
  const oss = fakeOss();
  let origin: string;
  beforeAll(async () => {
    await new Promise<void>((r) => oss.server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(oss.server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => oss.server.close(() => r())));

  it('creates the private bucket with the exports lifecycle rule, signed as OSS checks, and a second plan is empty', async () => {
    const provider = ossBucketProvider('cn-hangzhou', KEY, origin);

    expect(await provider.describe(bucket)).toBeUndefined();
    await provider.create(bucket);
    const described = await provider.describe(bucket);

    expect(oss.refused).toEqual([]);
    expect(oss.state.acl).toBe('private');
    expect(oss.state.lifecycle).toContain('<Prefix>exports/</Prefix>');
    expect(described).toEqual(bucket.props);
    expect(planChanges([bucket], new Map([[keyOf(bucket), described]]))[0]!.action).toBe('unchanged');
  });

  it('is refused with a wrong secret (the fake really checks the signature)', async () => {
    const provider = ossBucketProvider('cn-hangzhou', { ...KEY, accessKeySecret: 'wrong' }, origin);
    await expect(provider.describe(bucket)).rejects.toThrow(/403/);
  });
});
