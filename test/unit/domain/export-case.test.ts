import { describe, expect, it } from 'vitest';
import { storedSpelling } from '../../../lib/domain/export-case.js';
import { ExportTree, type ExportEntry } from '../../../lib/domain/export.js';

const entry = (path: string, type: ExportEntry['type']): ExportEntry => ({
  path,
  type,
  size: 0,
  mode: 0o644,
  owner: 'BUILTIN\\Administrators',
  mtime: 0,
  sha256: null,
  blob: type === 'file' ? 0 : null,
  target: null,
});

const tree = new ExportTree([
  entry('/Windows', 'dir'),
  entry('/Windows/win.ini', 'file'),
  entry('/Users', 'dir'),
  entry('/Users/Public', 'dir'),
  entry('/Users/Public/Ünïcode Straße.txt', 'file'),
]);

describe('storedSpelling', () => {
  const rows: { name: string; path: string; want: string | undefined }[] = [
    { name: 'exact spelling', path: '/Windows/win.ini', want: '/Windows/win.ini' },
    { name: 'upper case', path: '/WINDOWS/WIN.INI', want: '/Windows/win.ini' },
    { name: 'lower-case directory', path: '/users/public', want: '/Users/Public' },
    { name: 'non-ASCII letters in another case', path: '/users/public/üNÏCODE STRASSE.TXT', want: undefined },
    {
      name: 'non-ASCII letters, same length',
      path: '/users/PUBLIC/ÜNÏCODE STRAßE.TXT',
      want: '/Users/Public/Ünïcode Straße.txt',
    },
    { name: 'the root', path: '/', want: '/' },
    { name: 'no such name', path: '/Windows/system.ini', want: undefined },
    { name: 'a file is no directory', path: '/windows/win.ini/x', want: undefined },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(storedSpelling(tree, row.path)).toBe(row.want);
    });
  }
});
