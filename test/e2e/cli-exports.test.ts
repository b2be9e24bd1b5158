import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './cli-support.js';
import { E2E_TIMEOUT_MS } from './support.js';

/**
 * The CLI's side of the export routes (`/api/v1/exports`, `/backups/{id}/exports`), served here in
 * their documented shapes so requests, paging, redirects and streamed downloads are checked on the
 * client alone; the export API's own tests cover the server.
 */
const TOKEN = 'export-test-token';
const FILE = Buffer.from('<html>exported</html>\n');
const ARCHIVE = Buffer.alloc(3 * 1024 * 1024, 7);

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: string;
}

const job = (status: string) => ({
  id: 'job-ex1',
  type: 'export',
  status,
  step: 'upload',
  progress: 100,
  reason: null,
});
const exportView = { id: 'ex-1', status: 'COMPLETE', backupId: 'bk-1', instanceId: 'i-web', diskId: 'd-sys' };

function serve(seen: Seen[]): http.Server {
  let canceled = false;
  return http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      const url = new URL(req.url!, 'http://x');
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (url.pathname === '/signed/index.html') {
        res.writeHead(200, {
          'content-length': FILE.length,
          'content-disposition': 'attachment; filename="index.html"',
        });
        return res.end(FILE);
      }
      if (url.pathname === '/signed/ex-1.tar.gz') {
        res.writeHead(200, {
          'content-length': ARCHIVE.length,
          'content-disposition': `attachment; filename="ex-1.tar.gz"; filename*=UTF-8''ex-1.tar.gz`,
        });
        return res.end(ARCHIVE);
      }
      if (req.headers.authorization !== `Bearer ${TOKEN}`)
        return send(401, { title: 'Unauthorized', status: 401 });
      const route = `${req.method} ${url.pathname}`;
      if (route === 'POST /api/v1/backups/bk-1/exports')
        return send(202, { export: exportView, job: job('RUNNING') });
      if (route === 'GET /api/v1/jobs/job-ex1') return send(200, job(canceled ? 'CANCELED' : 'COMPLETE'));
      if (route === 'GET /api/v1/exports')
        return url.searchParams.get('cursor')
          ? send(200, { items: [{ ...exportView, id: 'ex-2' }], nextCursor: null })
          : send(200, { items: [exportView], nextCursor: 'page-2' });
      if (route === 'GET /api/v1/exports/ex-1/files')
        return send(200, {
          items: [
            { path: '/var/www/index.html', type: 'file', size: FILE.length, mode: 0o644, sha256: 'ab' },
            { path: '/var/www/current', type: 'symlink', size: 0, mode: 0o777, target: 'index.html' },
          ],
          nextCursor: null,
        });
      if (route === 'GET /api/v1/exports/ex-1/download') {
        if (url.searchParams.get('path') === '/var/www/index.html') {
          res.writeHead(302, { location: '/signed/index.html' });
          return res.end();
        }
        // The whole export, like a file, is a redirect to a signed URL of the archive.
        res.writeHead(302, { location: '/signed/ex-1.tar.gz' });
        return res.end();
      }
      if (route === 'POST /api/v1/exports/ex-1/cancel') {
        canceled = true;
        return send(202, { ...exportView, status: 'CANCELING', job: job('CANCELING') });
      }
      if (route === 'DELETE /api/v1/exports/ex-1') {
        res.writeHead(204);
        return res.end();
      }
      send(404, { title: 'Not found', status: 404, detail: `no route ${url.pathname}` });
    });
  });
}

describe('ecs-backup exports', { timeout: E2E_TIMEOUT_MS }, () => {
  const seen: Seen[] = [];
  const server = serve(seen);
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-cli-export-'));
    env = { ECS_BACKUP_ENDPOINT: `http://127.0.0.1:${port}`, ECS_BACKUP_TOKEN: TOKEN, XDG_CONFIG_HOME: dir };
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('create --wait, ls --all, browse, download a file and the whole export, cancel --wait, rm', async () => {
    const created = await cli(
      [
        'exports',
        'create',
        'bk-1',
        '--path',
        '/var/www',
        '/etc/nginx/nginx.conf',
        '--disk',
        'd-sys',
        '--wait',
      ],
      {
        env,
      },
    );
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ id: 'job-ex1', status: 'COMPLETE' });
    expect(JSON.parse(seen.find((s) => s.method === 'POST')!.body)).toEqual({
      paths: ['/var/www', '/etc/nginx/nginx.conf'],
      diskId: 'd-sys',
    });

    const listed = await cli(['exports', 'ls', '--all', '--output', 'table'], { env });
    expect(listed.stdout).toMatch(/^EXPORT\s+STATUS/);
    expect(listed.stdout).toMatch(/ex-1\s+COMPLETE\s+bk-1/);
    expect(listed.stdout).toMatch(/ex-2\s+COMPLETE/);

    const browsed = await cli(['exports', 'browse', 'ex-1', '/var/www', '--output', 'table'], { env });
    expect(browsed.stdout).toMatch(new RegExp(`file\\s+${FILE.length}\\s+0644\\s+-\\s+index\\.html`));
    expect(browsed.stdout).toContain('current -> index.html');
    expect(seen.some((s) => s.url === '/api/v1/exports/ex-1/files?path=%2Fvar%2Fwww')).toBe(true);

    const one = await cli(
      ['exports', 'download', 'ex-1', '/var/www/index.html', '-f', path.join(dir, 'index.html')],
      { env },
    );
    expect(one.code, one.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'index.html')).equals(FILE)).toBe(true);
    const whole = await cli(['exports', 'download', 'ex-1', '-f', path.join(dir, 'all.tar.gz')], { env });
    expect(whole.code, whole.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'all.tar.gz')).equals(ARCHIVE)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'all.tar.gz.partial'))).toBe(false);

    const canceled = await cli(['exports', 'cancel', 'ex-1', '--wait'], { env });
    expect(canceled.code).toBe(1);
    expect(JSON.parse(canceled.stdout)).toMatchObject({ status: 'CANCELED' });
    const removed = await cli(['exports', 'rm', 'ex-1'], { env });
    expect(removed.code).toBe(0);
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/api/v1/exports/ex-1' });
    expect(seen.filter((s) => !s.url.startsWith('/signed/')).every((s) => s.auth === `Bearer ${TOKEN}`)).toBe(
      true,
    );
  });
});
