import { describe, expect, it } from 'vitest';
import {
  checkExportPaths,
  ExportTree,
  MAX_EXPORT_PATHS,
  MAX_PATH_LENGTH,
  nameOf,
  normalizeExportPath,
  parentOf,
  parseManifest,
  renderManifest,
  type ExportEntry,
} from '../../../lib/domain/export.js';

describe('normalizeExportPath', () => {
  const rows: { name: string; raw: string; os: 'linux' | 'windows'; want: string }[] = [
    { name: 'plain Linux path', raw: '/var/www', os: 'linux', want: '/var/www' },
    { name: 'doubled and dot segments folded', raw: '//etc/./nginx//', os: 'linux', want: '/etc/nginx' },
    { name: 'the root', raw: '/', os: 'linux', want: '/' },
    { name: 'empty', raw: '', os: 'linux', want: 'must not be empty' },
    { name: 'too long', raw: `/${'a'.repeat(MAX_PATH_LENGTH)}`, os: 'linux', want: 'at most' },
    { name: 'NUL inside', raw: '/etc/pass\0wd', os: 'linux', want: 'NUL' },
    { name: 'relative on Linux', raw: 'etc/nginx', os: 'linux', want: 'must be absolute (start with /)' },
    { name: 'parent segment', raw: '/var/../etc', os: 'linux', want: '".." segments' },
    { name: 'Windows drive path', raw: 'C:\\Users\\a.txt', os: 'windows', want: '/Users/a.txt' },
    { name: 'Windows volume-relative', raw: '\\inetpub\\wwwroot', os: 'windows', want: '/inetpub/wwwroot' },
    { name: 'Windows relative', raw: 'Users\\a.txt', os: 'windows', want: 'must be absolute: C:\\dir\\file' },
    { name: 'Windows parent segment', raw: 'D:\\a\\..\\b', os: 'windows', want: '".." segments' },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(normalizeExportPath(row.raw, row.os)).toContain(row.want);
    });
  }
});

describe('checkExportPaths', () => {
  it('refuses an empty list naming paths', () => {
    expect(checkExportPaths([], 'linux')).toEqual({
      ok: false,
      issues: [{ path: 'paths', message: 'must list at least one path' }],
    });
  });

  it('refuses more than the limit naming paths', () => {
    const paths = Array.from({ length: MAX_EXPORT_PATHS + 1 }, (_, i) => `/f${i}`);
    const checked = checkExportPaths(paths, 'linux');
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.issues[0]!.path).toBe('paths');
  });

  it('names each bad entry by its index and keeps nothing', () => {
    const checked = checkExportPaths(['/ok', 'rel', '/a/../b'], 'linux');
    expect(checked).toEqual({
      ok: false,
      issues: [
        { path: 'paths[1]', message: 'must be absolute (start with /)' },
        { path: 'paths[2]', message: 'must not contain ".." segments' },
      ],
    });
  });

  it('normalizes and removes duplicates, keeping the first order', () => {
    expect(checkExportPaths(['/etc/', '/var//www', '/etc'], 'linux')).toEqual({
      ok: true,
      paths: ['/etc', '/var/www'],
    });
  });
});

describe('parseManifest', () => {
  const rec = (fields: string[], path: string, extra = '') => `${fields.join('\t')}\0${path}\0${extra}\0`;

  it('reads files, directories, symlinks and skipped entries', () => {
    const text =
      rec(['d', '0', '755', 'root', '1700000000', '-', '-'], '/etc') +
      rec(['f', '12', '644', 'root', '1700000000.5', 'ab'.repeat(32), '3'], '/etc/a b\tc') +
      rec(['l', '0', '777', 'root', '1700000000', '-', '-'], '/etc/link', '/etc/a') +
      rec(['x', '0', '0', 'root', '0', '-', '-'], '/dev/sda', 'a block device');

    const m = parseManifest(text);

    expect(m.entries.map((e) => [e.path, e.type])).toEqual([
      ['/etc', 'dir'],
      ['/etc/a b\tc', 'file'],
      ['/etc/link', 'symlink'],
    ]);
    expect(m.entries[1]).toMatchObject({ size: 12, mode: 0o644, mtime: 1_700_000_000_500, blob: 3 });
    expect(m.entries[0]).toMatchObject({ sha256: null, blob: null, target: null });
    expect(m.entries[2]!.target).toBe('/etc/a');
    expect(m.skipped).toEqual([{ path: '/dev/sda', reason: 'a block device' }]);
  });

  it('reads a packed file as its pack and offset, and refuses a blob it cannot place', () => {
    const m = parseManifest(rec(['f', '12', '644', 'root', '1', 'ab', 'p3@4096'], '/a'));
    expect(m.entries[0]).toMatchObject({ blob: null, pack: { index: 3, offset: 4096 }, size: 12 });
    expect(
      parseManifest(rec(['f', '1', '644', 'root', '1', '-', '7'], '/b')).entries[0]!.pack,
    ).toBeUndefined();
    expect(() => parseManifest(rec(['f', '1', '644', 'root', '1', '-', 'p3'], '/c'))).toThrow(
      /blob "p3": expected n, p<n>@<offset> or -/,
    );
  });

  it('turns Windows separators into slashes, and keeps a backslash in a Linux name', () => {
    const m = parseManifest(rec(['f', '1', '644', 'SYSTEM', '1', '-', '0'], '\\Users\\a.txt'));
    expect(m.entries[0]!.path).toBe('/Users/a.txt');
    const linux = parseManifest(rec(['f', '1', '644', 'root', '1', '-', '0'], '/srv/back\\slash'));
    expect(linux.entries[0]!.path).toBe('/srv/back\\slash');
  });

  it('writes a manifest back that reads to the same values', () => {
    const text =
      rec(['d', '0', '755', 'root:root', '1700000000', '-', '-'], '/etc') +
      rec(['f', '12', '640', 'www:adm', '1700000000.5', 'ab'.repeat(32), '3'], '/etc/a b\tc\nd') +
      rec(['f', '2', '600', 'root:root', '1', '-', 'p1@512'], '/etc/packed') +
      rec(['l', '6', '777', 'root:root', '1700000000', '-', '-'], '/etc/link', '/etc/a') +
      rec(['x', '-', '-', '-', '-', '-', '-'], '/dev/sda', 'a device file is not exported');
    const once = parseManifest(text);
    expect(parseManifest(renderManifest(once))).toEqual(once);
  });

  it('refuses a manifest cut short', () => {
    expect(() => parseManifest('f\t1\t644\troot\t1\t-\t0\0/a\0')).toThrow(/cut short/);
  });

  it('refuses a record with the wrong number of fields', () => {
    expect(() => parseManifest('f\t1\t644\0/a\0\0')).toThrow(/has 3 fields, expected 7/);
  });

  it('refuses an unknown entry type', () => {
    expect(() => parseManifest(rec(['q', '0', '0', 'root', '0', '-', '-'], '/a'))).toThrow(/"q" is unknown/);
  });
});

describe('the export tree', () => {
  const entry = (path: string, type: ExportEntry['type'] = 'file'): ExportEntry => ({
    path,
    type,
    size: 1,
    mode: 0o644,
    owner: 'root',
    mtime: 0,
    sha256: null,
    blob: null,
    target: null,
  });
  const tree = new ExportTree([
    entry('/var', 'dir'),
    entry('/var/www', 'dir'),
    entry('/var/www/c.html'),
    entry('/var/www/a.html'),
    entry('/var/www/b.html'),
    entry('/etc/hosts'),
  ]);

  it('names parents and names', () => {
    expect(parentOf('/var/www/a.html')).toBe('/var/www');
    expect(parentOf('/var')).toBe('/');
    expect(parentOf('noslash')).toBe('/');
    expect(nameOf('/var/www/a.html')).toBe('a.html');
  });

  it('pages one directory level in name order with a cursor, then ends', () => {
    const first = tree.list('/var/www', undefined, 2);
    expect(first.items.map((e) => nameOf(e.path))).toEqual(['a.html', 'b.html']);
    expect(first.cursor).toBe('b.html');
    const second = tree.list('/var/www', first.cursor, 2);
    expect(second.items.map((e) => nameOf(e.path))).toEqual(['c.html']);
    expect(second.cursor).toBeUndefined();
    expect(tree.list('/nowhere', undefined, 10)).toEqual({ items: [] });
  });

  it('knows exported directories and the directories above exported paths', () => {
    expect(tree.hasDir('/var/www')).toBe(true);
    expect(tree.hasDir('/etc')).toBe(true);
    expect(tree.hasDir('/etc/hosts')).toBe(false);
    expect(tree.entry('/etc/hosts')?.type).toBe('file');
  });

  it('lists everything under a path in path order', () => {
    expect(tree.under('/var/www').map((e) => e.path)).toEqual([
      '/var/www',
      '/var/www/a.html',
      '/var/www/b.html',
      '/var/www/c.html',
    ]);
    expect(tree.under('/').length).toBe(6);
  });
});
