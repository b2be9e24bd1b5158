/**
 * Export records (HBR's fourth tab): which paths of a backed-up disk an operator may ask for, how
 * the guest's manifest reads, and one level of the exported tree for browsing. Pure: no I/O.
 *
 * Policy: a path is refused, never repaired, when it could mean something else than it says —
 * relative, `..`, NUL, a drive letter on Linux. Browsing is by directory level in name order, the
 * cursor the last name returned, so a page is stable while nothing changes (an export never does).
 */
import type { ValidationIssue } from './errors.js';

export const MAX_EXPORT_PATHS = 100;
export const MAX_PATH_LENGTH = 4096;

export type ExportOs = 'linux' | 'windows';
export type EntryType = 'file' | 'dir' | 'symlink';

export interface ExportEntry {
  /** Absolute on the disk: `/var/www/a.html`, or `\Users\a.txt` (relative to the volume) on Windows. */
  path: string;
  type: EntryType;
  size: number;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  owner: string;
  /** Epoch ms. */
  mtime: number;
  sha256: string | null;
  /** Index of the uploaded object holding the bytes (files only). */
  blob: number | null;
  /** Or, for a small file, the pack holding its bytes and where they start (its length is `size`). */
  pack?: PackRef;
  target: string | null;
}

export interface PackRef {
  index: number;
  offset: number;
}

export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface Manifest {
  entries: ExportEntry[];
  skipped: SkippedEntry[];
}

/**
 * Windows names that cannot be files: the DOS device names (with any extension, `CON.txt` too),
 * and the characters Win32 forbids in a name. A name ending in a dot or space is refused too:
 * Win32 silently drops that ending, so the request would name another file than it says.
 */
const WINDOWS_RESERVED =
  /^(CON|PRN|AUX|NUL|COM[0-9\u00b9\u00b2\u00b3]|LPT[0-9\u00b9\u00b2\u00b3])(\.[^.]*)?$/i;
// eslint-disable-next-line no-control-regex
const WINDOWS_FORBIDDEN = /[<>:"|?*\u0001-\u001f]/;

function windowsNameProblem(name: string): string | null {
  if (WINDOWS_FORBIDDEN.test(name)) return `must not contain <>:"|?* or control characters (in "${name}")`;
  const reserved = WINDOWS_RESERVED.exec(name);
  if (reserved) return `"${name}" is a reserved device name on Windows (${reserved[1]!.toUpperCase()})`;
  if (/[. ]$/.test(name)) return `"${name}" ends with a dot or space, which Windows drops from names`;
  return null;
}

/** The drive letter a Windows path names (`C:\...`), upper case; null for `\...` or a Linux path. */
export function driveOf(raw: string): string | null {
  return /^([A-Za-z]):[\\/]/.exec(raw)?.[1]?.toUpperCase() ?? null;
}

/**
 * Paths as the guest compares them and as the manifest keys them: Windows separators turned to
 * `/`, the drive letter dropped (the export reads one disk, so the letter only names its volume).
 */
export function normalizeExportPath(raw: string, os: ExportOs): string | ValidationIssue['message'] {
  if (raw.length === 0) return 'must not be empty';
  if (raw.length > MAX_PATH_LENGTH) return `must be at most ${MAX_PATH_LENGTH} characters`;
  if (raw.includes('\0')) return 'must not contain a NUL character';
  let p = raw;
  if (os === 'windows') {
    if (/^[\\/]{2}/.test(p))
      return 'must be a path on the disk, not a UNC or device path (\\\\server\\share, \\\\?\\)';
    if (/^[A-Za-z]:(?![\\/])/.test(p))
      return 'must be absolute: C:\\dir\\file (C:dir is relative to a current directory)';
    p = p.replace(/^[A-Za-z]:(?=[\\/])/, '').replace(/\\/g, '/');
    if (!p.startsWith('/')) return 'must be absolute: C:\\dir\\file or \\dir\\file';
  } else if (!p.startsWith('/')) return 'must be absolute (start with /)';
  const segments = p.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return 'must not contain ".." segments';
  if (os === 'windows') {
    for (const name of segments) {
      const problem = windowsNameProblem(name);
      if (problem) return problem;
    }
  }
  return `/${segments.join('/')}`;
}

/** The requested paths, normalized and de-duplicated, or the issues naming each bad one. */
export function checkExportPaths(
  paths: readonly string[],
  os: ExportOs,
): { ok: true; paths: string[] } | { ok: false; issues: ValidationIssue[] } {
  if (paths.length === 0)
    return { ok: false, issues: [{ path: 'paths', message: 'must list at least one path' }] };
  if (paths.length > MAX_EXPORT_PATHS) {
    return { ok: false, issues: [{ path: 'paths', message: `must list at most ${MAX_EXPORT_PATHS} paths` }] };
  }
  const issues: ValidationIssue[] = [];
  const out: string[] = [];
  let drive: { letter: string; index: number } | undefined;
  for (const [i, raw] of paths.entries()) {
    const p = normalizeExportPath(raw, os);
    const letter = os === 'windows' ? driveOf(raw) : null;
    if (!p.startsWith('/')) {
      issues.push({ path: `paths[${i}]`, message: p });
      continue;
    }
    if (letter && drive && letter !== drive.letter) {
      issues.push({
        path: `paths[${i}]`,
        message: `names drive ${letter}: but paths[${drive.index}] names ${drive.letter}:; an export reads one disk, so one volume`,
      });
      continue;
    }
    if (letter && !drive) drive = { letter, index: i };
    if (!out.includes(p)) out.push(p);
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, paths: out };
}

/**
 * A path given to browse or download, in the manifest's form: `C:\Windows\win.ini`,
 * `\Windows\win.ini` and `/Windows/win.ini` all name the same entry of a Windows export. Names are
 * matched as the file system spelled them (the manifest keeps NTFS's case).
 */
export function exportLookupPath(raw: string): string {
  const p = raw
    .replace(/^[A-Za-z]:(?=[\\/]|$)/, '')
    .replace(/\\/g, '/')
    .replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

const TYPES: Record<string, EntryType> = { f: 'file', d: 'dir', l: 'symlink' };

/**
 * The guest's manifest: per entry a record of tab-separated fields, then the path and a second
 * string, each ended by NUL, so any byte of a name survives unencoded:
 * `f|d|l<TAB>size<TAB>mode(octal)<TAB>owner<TAB>mtime(s)<TAB>sha256|-<TAB>blob|-`, path, symlink
 * target (empty otherwise); `x` records an entry skipped (device, socket, FIFO, over a limit) with
 * the reason as its second string. Windows paths arrive with `\`; they are kept with `/`. A file
 * packed with other small ones has `p<pack>@<offset>` for its blob: its bytes are `size` bytes of
 * that pack from that offset.
 */
export function parseManifest(text: string): Manifest {
  const entries: ExportEntry[] = [];
  const skipped: SkippedEntry[] = [];
  const parts = text.split('\0');
  if (parts.length % 3 !== 1 || parts[parts.length - 1] !== '') {
    throw new Error('the manifest is cut short: its records must come in threes, each ended by NUL');
  }
  for (let i = 0; i + 2 < parts.length; i += 3) {
    const f = parts[i]!.split('\t');
    if (f.length !== 7) throw new Error(`manifest record ${i / 3} has ${f.length} fields, expected 7`);
    const [kind, size, mode, owner, mtime, sha, blob] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    // A Windows guest's paths start with `\`; a Linux name may hold a backslash of its own.
    const raw = parts[i + 1]!;
    const path = raw.startsWith('\\') ? raw.replace(/\\/g, '/') : raw;
    const extra = parts[i + 2]!;
    if (kind === 'x') {
      skipped.push({ path, reason: extra });
      continue;
    }
    const type = TYPES[kind];
    if (!type) throw new Error(`manifest entry type ${JSON.stringify(kind)} is unknown`);
    entries.push({
      path,
      type,
      size: Number(size),
      mode: parseInt(mode, 8),
      owner,
      mtime: Math.round(Number(mtime) * 1000),
      sha256: sha === '-' ? null : sha,
      ...placeOf(blob, i / 3),
      target: type === 'symlink' ? extra : null,
    });
  }
  return { entries, skipped };
}

/**
 * The manifest written back in the guest's format (entries, then skipped ones), for the sha256 of
 * packed files that are taken after the guest is done: `parseManifest` reads it to the same values.
 */
export function renderManifest(manifest: Manifest): string {
  const records: string[] = [];
  for (const e of manifest.entries) {
    const kind = e.type === 'file' ? 'f' : e.type === 'dir' ? 'd' : 'l';
    const place = e.pack ? `p${e.pack.index}@${e.pack.offset}` : e.blob === null ? '-' : String(e.blob);
    const fields = [kind, e.size, e.mode.toString(8), e.owner, e.mtime / 1000, e.sha256 ?? '-', place];
    records.push(fields.join('\t'), e.path, e.target ?? '');
  }
  for (const x of manifest.skipped) records.push('x\t-\t-\t-\t-\t-\t-', x.path, x.reason);
  return records.map((r) => `${r}\0`).join('');
}

/** Where a file's bytes are: its own object (`n`), a pack (`p<n>@<offset>`), or nowhere (`-`). */
function placeOf(blob: string, record: number): Pick<ExportEntry, 'blob' | 'pack'> {
  if (blob === '-') return { blob: null };
  if (/^\d+$/.test(blob)) return { blob: Number(blob) };
  const packed = /^p(\d+)@(\d+)$/.exec(blob);
  if (packed) return { blob: null, pack: { index: Number(packed[1]), offset: Number(packed[2]) } };
  throw new Error(
    `manifest record ${record} has blob ${JSON.stringify(blob)}: expected n, p<n>@<offset> or -`,
  );
}

export function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Entries grouped by their directory and sorted by name once, so each page is a binary search. */
export class ExportTree {
  private readonly byDir = new Map<string, ExportEntry[]>();
  private readonly byPath = new Map<string, ExportEntry>();

  constructor(entries: readonly ExportEntry[]) {
    for (const e of entries) {
      this.byPath.set(e.path, e);
      const dir = parentOf(e.path);
      const list = this.byDir.get(dir) ?? [];
      list.push(e);
      this.byDir.set(dir, list);
    }
    for (const list of this.byDir.values()) list.sort((a, b) => (nameOf(a.path) < nameOf(b.path) ? -1 : 1));
  }

  entry(path: string): ExportEntry | undefined {
    return this.byPath.get(path);
  }

  /** True for a directory that was exported or lies above an exported path. */
  hasDir(path: string): boolean {
    return this.byDir.has(path) || this.byPath.get(path)?.type === 'dir';
  }

  /** One page of a directory level: names after `after`, at most `limit`. */
  list(dir: string, after: string | undefined, limit: number): { items: ExportEntry[]; cursor?: string } {
    const all = this.byDir.get(dir) ?? [];
    let lo = 0;
    if (after !== undefined) {
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (nameOf(all[mid]!.path) <= after) lo = mid + 1;
        else hi = mid;
      }
    }
    const items = all.slice(lo, lo + limit);
    const more = lo + limit < all.length;
    return more ? { items, cursor: nameOf(items[items.length - 1]!.path) } : { items };
  }

  /** Every file at or under `path`, in path order (what a whole-export archive holds). */
  under(path: string): ExportEntry[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    return [...this.byPath.values()]
      .filter((e) => e.path === path || e.path.startsWith(prefix))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
  }
}
