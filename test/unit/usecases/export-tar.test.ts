import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attachment } from '../../../lib/usecases/export/disposition.js';
import { END_OF_ARCHIVE, entryHeader, padding, type TarEntry } from '../../../lib/usecases/export/tar.js';

/** The headers are read back by GNU tar itself: what it extracts is what a user gets. */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-tar-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const MTIME = Date.UTC(2026, 4, 1, 12, 0, 0);

function archive(entries: { entry: Partial<TarEntry> & { name: string }; body?: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const { entry, body } of entries) {
    const full: TarEntry = {
      type: 'file',
      size: body?.length ?? 0,
      mode: 0o644,
      mtime: MTIME,
      uname: 'root',
      gname: 'root',
      linkname: '',
      ...entry,
    };
    parts.push(entryHeader(full));
    if (body) parts.push(body, padding(body.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

function extract(name: string, bytes: Buffer): string {
  const out = path.join(dir, name);
  fs.mkdirSync(out);
  fs.writeFileSync(`${out}.tar`, bytes);
  execFileSync('tar', ['-xf', `${out}.tar`, '-C', out]);
  return out;
}

describe('export archive headers', () => {
  it.each([
    ['a short ASCII name', 'etc/hostname'],
    ['a name with spaces and unicode', 'var/www/a name — ünïcode 文件.txt'],
    ['a name of 100 bytes exactly', `d/${'n'.repeat(98)}`],
    ['a path over 100 and over 255 bytes', `${'deep/'.repeat(60)}leaf.txt`],
    ['a long unicode name', `${'ü'.repeat(120)}.bin`],
  ])('%s survives GNU tar byte for byte', (_label, name) => {
    const body = Buffer.from(`content of ${name}\n`);
    const out = extract(`t${Math.random().toString(36).slice(2)}`, archive([{ entry: { name }, body }]));
    const file = path.join(out, name);
    expect(fs.readFileSync(file)).toEqual(body);
    expect(fs.statSync(file).mtimeMs).toBe(MTIME);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
  });

  it('writes directories, modes and symlinks with long and unicode targets', () => {
    const target = `../${'t'.repeat(150)}/ziel-ß`;
    const out = extract(
      'links',
      archive([
        { entry: { name: 'srv', type: 'dir', mode: 0o750 } },
        { entry: { name: 'srv/run.sh', mode: 0o755 }, body: Buffer.from('#!/bin/sh\n') },
        { entry: { name: 'srv/short', type: 'symlink', linkname: 'run.sh', mode: 0o777 } },
        { entry: { name: 'srv/long', type: 'symlink', linkname: target, mode: 0o777 } },
        { entry: { name: 'srv/empty', size: 0 }, body: Buffer.alloc(0) },
      ]),
    );
    expect(fs.statSync(path.join(out, 'srv')).mode & 0o777).toBe(0o750);
    expect(fs.statSync(path.join(out, 'srv/run.sh')).mode & 0o777).toBe(0o755);
    expect(fs.readlinkSync(path.join(out, 'srv/short'))).toBe('run.sh');
    expect(fs.readlinkSync(path.join(out, 'srv/long'))).toBe(target);
    expect(fs.statSync(path.join(out, 'srv/empty')).size).toBe(0);
  });

  it('lists owner names longer than ustar holds', () => {
    const bytes = archive([
      { entry: { name: 'f', uname: 'u'.repeat(40), gname: 'grüppe' }, body: Buffer.from('x') },
    ]);
    fs.writeFileSync(path.join(dir, 'owners.tar'), bytes);
    const listing = execFileSync('tar', ['-tvf', path.join(dir, 'owners.tar')]).toString();
    expect(listing).toContain(`${'u'.repeat(40)}/grüppe`);
  });

  it('pads to whole blocks and ends with two zero blocks', () => {
    const bytes = archive([{ entry: { name: 'x' }, body: Buffer.from('abc') }]);
    expect(bytes.length % 512).toBe(0);
    expect(bytes.subarray(-1024).every((b) => b === 0)).toBe(true);
    expect(padding(512).length).toBe(0);
  });
});

describe('Content-Disposition of a download', () => {
  it.each([
    ['index.html', `attachment; filename="index.html"; filename*=UTF-8''index.html`],
    ['a "q" \\ b', `attachment; filename="a _q_ _ b"; filename*=UTF-8''a%20%22q%22%20%5C%20b`],
    [
      "ünï (1)'s*.txt",
      `attachment; filename="_n_ (1)'s*.txt"; filename*=UTF-8''%C3%BCn%C3%AF%20%281%29%27s%2A.txt`,
    ],
  ])('%s', (name, header) => {
    expect(attachment(name)).toBe(header);
  });
});
