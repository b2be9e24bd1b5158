import { nameOf, type ExportTree } from './export.js';

/** NTFS's upcase table maps one UTF-16 unit to one: `ß` stays `ß`, never `SS` as `toUpperCase` makes it. */
function upcase(name: string): string {
  let out = '';
  for (const c of name) {
    const u = c.toUpperCase();
    out += u.length === c.length ? u : c;
  }
  return out;
}

/**
 * The path as the manifest spells it, for a path that names an entry of a Windows export in
 * another case: NTFS matches names regardless of case, so `C:\WINDOWS\WIN.INI` is
 * `\Windows\win.ini`. Walks one directory level a segment; undefined when nothing matches. Where
 * two names differ only by case (a directory with case sensitivity turned on), the first in name
 * order wins.
 */
export function storedSpelling(tree: ExportTree, path: string): string | undefined {
  let at = '/';
  for (const segment of path.split('/').filter(Boolean)) {
    const want = upcase(segment);
    const hit = tree
      .list(at, undefined, Number.MAX_SAFE_INTEGER)
      .items.find((e) => upcase(nameOf(e.path)) === want);
    if (!hit) return undefined;
    at = hit.path;
  }
  return at;
}
