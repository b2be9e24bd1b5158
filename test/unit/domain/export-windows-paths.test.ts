import { describe, expect, it } from 'vitest';
import {
  checkExportPaths,
  driveOf,
  exportLookupPath,
  MAX_EXPORT_PATHS,
  normalizeExportPath,
} from '../../../lib/domain/export.js';

describe('normalizeExportPath on Windows', () => {
  const rows: { name: string; raw: string; want: string }[] = [
    { name: 'drive path to the manifest form', raw: 'C:\\Windows\\win.ini', want: '/Windows/win.ini' },
    { name: 'lower-case drive and forward slashes', raw: 'c:/inetpub/wwwroot', want: '/inetpub/wwwroot' },
    { name: 'volume-relative', raw: '\\Users\\Public', want: '/Users/Public' },
    { name: 'the volume root', raw: 'C:\\', want: '/' },
    { name: 'doubled separators and dot segments folded', raw: 'C:\\Users\\\\.\\a\\', want: '/Users/a' },
    { name: 'a dot inside a name is kept', raw: 'C:\\a.b\\c..d', want: '/a.b/c..d' },
    { name: 'relative', raw: 'Users\\a.txt', want: 'must be absolute: C:\\dir\\file or \\dir\\file' },
    { name: 'drive-relative C:dir', raw: 'C:Users', want: 'C:dir is relative to a current directory' },
    { name: 'parent segment', raw: 'C:\\a\\..\\b', want: '".." segments' },
    { name: 'NUL', raw: 'C:\\a\0b', want: 'NUL' },
    { name: 'UNC share', raw: '\\\\server\\share\\x', want: 'not a UNC or device path' },
    { name: 'device path', raw: '\\\\?\\C:\\x', want: 'not a UNC or device path' },
    { name: 'reserved name', raw: 'C:\\temp\\NUL', want: '"NUL" is a reserved device name on Windows (NUL)' },
    {
      name: 'reserved name with an extension',
      raw: 'C:\\temp\\con.txt',
      want: 'reserved device name on Windows (CON)',
    },
    { name: 'reserved COM port', raw: '\\COM1', want: 'reserved device name on Windows (COM1)' },
    { name: 'reserved LPT port with superscript digit', raw: '\\LPT\u00b9', want: 'reserved device name' },
    {
      name: 'forbidden character',
      raw: 'C:\\a<b',
      want: 'must not contain <>:"|?* or control characters (in "a<b")',
    },
    { name: 'colon inside (a stream name)', raw: 'C:\\a.txt:secret', want: 'control characters' },
    { name: 'control character', raw: 'C:\\a\u0007b', want: 'control characters' },
    { name: 'trailing dot', raw: 'C:\\dir.\\x', want: '"dir." ends with a dot or space' },
    { name: 'trailing space', raw: 'C:\\dir \\x', want: 'ends with a dot or space' },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(normalizeExportPath(row.raw, 'windows')).toContain(row.want);
    });
  }

  it('keeps names that only look reserved', () => {
    for (const raw of ['C:\\CONSOLE', 'C:\\COM10', 'C:\\auxiliary.txt', 'C:\\nulx\\x.con']) {
      expect([raw, normalizeExportPath(raw, 'windows')]).toEqual([raw, expect.stringMatching(/^\//)]);
    }
  });

  it('applies Windows rules only to Windows paths', () => {
    expect(normalizeExportPath('/tmp/CON', 'linux')).toBe('/tmp/CON');
    expect(normalizeExportPath('/tmp/a<b:c', 'linux')).toBe('/tmp/a<b:c');
    expect(normalizeExportPath('C:\\Windows', 'linux')).toBe('must be absolute (start with /)');
  });
});

describe('checkExportPaths on Windows', () => {
  it('normalizes, removes duplicates across forms, keeps the first order', () => {
    expect(checkExportPaths(['C:\\Users', '\\Users\\', 'c:/Windows'], 'windows')).toEqual({
      ok: true,
      paths: ['/Users', '/Windows'],
    });
  });

  it('refuses two drive letters in one request, naming the second path and the first', () => {
    expect(checkExportPaths(['\\x', 'C:\\a', 'c:\\b', 'D:\\c'], 'windows')).toEqual({
      ok: false,
      issues: [
        {
          path: 'paths[3]',
          message: 'names drive D: but paths[1] names C:; an export reads one disk, so one volume',
        },
      ],
    });
  });

  it('names every bad entry by its index and keeps nothing', () => {
    const checked = checkExportPaths(['C:\\ok', 'rel', 'C:\\PRN', 'C:\\a\\..\\b'], 'windows');
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.issues.map((i) => i.path)).toEqual(['paths[1]', 'paths[2]', 'paths[3]']);
  });

  it('refuses more than the limit', () => {
    const paths = Array.from({ length: MAX_EXPORT_PATHS + 1 }, (_, i) => `C:\\f${i}`);
    expect(checkExportPaths(paths, 'windows')).toEqual({
      ok: false,
      issues: [{ path: 'paths', message: `must list at most ${MAX_EXPORT_PATHS} paths` }],
    });
  });
});

describe('driveOf', () => {
  it('reads the letter of a drive path only', () => {
    expect([driveOf('c:\\x'), driveOf('D:/x'), driveOf('\\x'), driveOf('C:x'), driveOf('/x')]).toEqual([
      'C',
      'D',
      null,
      null,
      null,
    ]);
  });
});

describe('exportLookupPath', () => {
  const rows: [string, string][] = [
    ['C:\\Windows\\win.ini', '/Windows/win.ini'],
    ['\\Windows\\win.ini', '/Windows/win.ini'],
    ['/Windows/win.ini', '/Windows/win.ini'],
    ['C:\\', '/'],
    ['C:', '/'],
    ['\\Users\\', '/Users'],
    ['/', '/'],
    ['/var/www/', '/var/www'],
  ];
  for (const [raw, want] of rows) {
    it(`${raw} -> ${want}`, () => {
      expect(exportLookupPath(raw)).toBe(want);
    });
  }
});
