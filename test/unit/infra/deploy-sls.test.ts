import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredState, sha256, type DeployConfig } from '../../../infra/deploy/desired.js';
import { keyOf, planChanges, type Resource } from '../../../infra/deploy/plan.js';
import { slsProviders } from '../../../infra/deploy/providers-platform.js';

const KEY = { accessKeyId: 'AK-deploy', accessKeySecret: 'deploy-secret', securityToken: 'sts-token' };
const config: DeployConfig = {
  region: 'cn-hangzhou',
  accountId: '1234567890123456',
  name: 'ecs-backup',
  tablestoreInstance: 'ecs-backup',
  exportsBucket: 'b',
  exportsExpireDays: 7,
  logProject: 'ecs-backup-logs',
  logstore: 'functions',
  apiTokenSecret: 's',
  apiTokenSha256: sha256('t'),
  codeChecksums: { api: '1', scheduler: '2', worker: '3', retention: '4' },
};
const alone = (key: string) =>
  ({ ...desiredState(config).find((r) => keyOf(r) === key)!, dependsOn: [] }) as Resource;

/** An SLS endpoint that checks the LOG signature as documented and keeps projects and logstores. */
function fakeSls() {
  const projects = new Map<string, { description: string; stores: Map<string, Record<string, unknown>> }>();
  const refused: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const h = (n: string) => String(req.headers[n] ?? '');
      const signed = Object.keys(req.headers)
        .filter((k) => k.startsWith('x-log-') || k.startsWith('x-acs-'))
        .sort()
        .map((k) => `${k}:${h(k)}`);
      const path = req.url ?? '/';
      const toSign = [req.method, h('content-md5'), h('content-type'), h('date'), ...signed, path].join('\n');
      const expected = `LOG ${KEY.accessKeyId}:${createHmac('sha1', KEY.accessKeySecret).update(toSign).digest('base64')}`;
      const md5ok = body === '' || h('content-md5') === createHash('md5').update(body).digest('base64');
      if (h('authorization') !== expected || !md5ok || h('x-acs-security-token') !== KEY.securityToken) {
        refused.push(`${req.method} ${path}`);
        return void res.writeHead(401).end('{"errorCode":"SignatureNotMatch"}');
      }
      // The project is the first label of the host the client addressed; here one project is served.
      const project = projects.get('ecs-backup-logs');
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.method === 'GET' && path === '/')
        return project
          ? json(200, { description: project.description })
          : json(404, { errorCode: 'ProjectNotExist' });
      if (req.method === 'POST' && path === '/') {
        projects.set('ecs-backup-logs', { description: JSON.parse(body).description, stores: new Map() });
        return json(200, {});
      }
      const store = /^\/logstores\/(.+)$/.exec(path)?.[1];
      if (req.method === 'GET' && store) {
        const got = project?.stores.get(store);
        return got ? json(200, got) : json(404, { errorCode: 'LogStoreNotExist' });
      }
      if (req.method === 'POST' && path === '/logstores') {
        const input = JSON.parse(body) as { logstoreName: string };
        project!.stores.set(input.logstoreName, { ...input, createTime: 1 });
        return json(200, {});
      }
      json(400, {});
    });
  });
  return { server, refused };
}

describe('the SLS providers', () => {
  const sls = fakeSls();
  let origin: string;
  beforeAll(async () => {
    await new Promise<void>((r) => sls.server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(sls.server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => sls.server.close(() => r())));

  it('creates the project and the logstore, signed as SLS checks, and a second plan is empty', async () => {
    const providers = slsProviders('cn-hangzhou', KEY, origin);
    const project = alone('sls.project/ecs-backup-logs');
    const store = alone('sls.logstore/ecs-backup-logs/functions');

    expect(await providers['sls.project']!.describe(project)).toBeUndefined();
    await providers['sls.project']!.create(project);
    expect(await providers['sls.logstore']!.describe(store)).toBeUndefined();
    await providers['sls.logstore']!.create(store);
    const described = new Map([
      [keyOf(project), await providers['sls.project']!.describe(project)],
      [keyOf(store), await providers['sls.logstore']!.describe(store)],
    ]);

    expect(sls.refused).toEqual([]);
    expect(planChanges([project, store], described).map((c) => c.action)).toEqual(['unchanged', 'unchanged']);
  });

  it('is refused with a wrong secret (the fake really checks the signature)', async () => {
    const providers = slsProviders('cn-hangzhou', { ...KEY, accessKeySecret: 'wrong' }, origin);
    await expect(providers['sls.project']!.describe(alone('sls.project/ecs-backup-logs'))).rejects.toThrow(
      /401/,
    );
  });
});
