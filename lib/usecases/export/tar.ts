/**
 * The tar headers of a whole-export archive (POSIX pax over ustar, as GNU and BSD tar read it). A
 * field that ustar cannot hold — a path longer than 100 bytes, any non-ASCII byte, a size of 8 GiB
 * or more — goes into a pax extended header before the entry, so names survive whatever they are.
 */

export const BLOCK = 512;

export interface TarEntry {
  /** Relative, `/`-separated: `var/www/index.html`. */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  mode: number;
  /** Epoch ms. */
  mtime: number;
  uname: string;
  gname: string;
  linkname: string;
}

const TYPEFLAG = { file: '0', dir: '5', symlink: '2' } as const;
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

const asciiOnly = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** Fits a ustar text field: printable ASCII within its bytes. */
const fits = (s: string, bytes: number) => asciiOnly(s) && s.length <= bytes;

function octal(value: number, width: number): string {
  return `${Math.floor(value)
    .toString(8)
    .padStart(width - 1, '0')}\0`;
}

/** One pax record: `<length> <key>=<value>\n`, the length counting its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyBytes = Buffer.byteLength(body);
  let length = bodyBytes + 1;
  while (String(length).length + bodyBytes !== length) length += 1;
  return `${length}${body}`;
}

function ustar(fields: {
  name: string;
  mode: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
}): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(fields.name, 0, 100, 'utf8');
  h.write(octal(fields.mode & 0o7777, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii');
  h.write(octal(0, 8), 116, 8, 'ascii');
  h.write(octal(Math.min(fields.size, MAX_OCTAL_SIZE), 12), 124, 12, 'ascii');
  h.write(octal(Math.max(0, fields.mtime), 12), 136, 12, 'ascii');
  h.write(' '.repeat(8), 148, 8, 'ascii');
  h.write(fields.typeflag, 156, 1, 'ascii');
  h.write(fields.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write(fields.uname, 265, 32, 'utf8');
  h.write(fields.gname, 297, 32, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

/** Zero bytes that bring `size` to a whole block. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** The header block(s) of one entry: a pax header first when ustar cannot hold a field. */
export function entryHeader(entry: TarEntry): Buffer {
  const name = entry.type === 'dir' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  const seconds = Math.floor(entry.mtime / 1000);
  const pax: string[] = [];
  if (!fits(name, 100)) pax.push(paxRecord('path', name));
  if (!fits(entry.linkname, 100)) pax.push(paxRecord('linkpath', entry.linkname));
  if (!fits(entry.uname, 32)) pax.push(paxRecord('uname', entry.uname));
  if (!fits(entry.gname, 32)) pax.push(paxRecord('gname', entry.gname));
  if (entry.size > MAX_OCTAL_SIZE) pax.push(paxRecord('size', String(entry.size)));
  const plain = (s: string, bytes: number) => (fits(s, bytes) ? s : '');
  const main = ustar({
    name: fits(name, 100) ? name : asciiFallback(name),
    mode: entry.mode,
    size: entry.type === 'file' ? entry.size : 0,
    mtime: seconds,
    typeflag: TYPEFLAG[entry.type],
    linkname: plain(entry.linkname, 100),
    uname: plain(entry.uname, 32),
    gname: plain(entry.gname, 32),
  });
  if (pax.length === 0) return main;
  const body = Buffer.from(pax.join(''), 'utf8');
  const extended = ustar({
    name: `PaxHeaders/${asciiFallback(name).slice(-80)}`,
    mode: 0o644,
    size: body.length,
    mtime: seconds,
    typeflag: 'x',
    linkname: '',
    uname: '',
    gname: '',
  });
  return Buffer.concat([extended, body, padding(body.length), main]);
}

/** What a reader without pax support sees: the name's ASCII, cut to fit. */
function asciiFallback(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_').slice(-99);
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
