import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PackQueue } from './guest-simulation-pack.js';
import type { InstanceRecord } from './records.js';
import type { EcsState } from './state.js';

/**
 * The Windows export script (lib/guest/windows-export.ps1), simulated: PowerShell cannot run here,
 * so its steps are done from its parameter block against the disk's folder, really over HTTP. The
 * disk is found by serial number among those attached, "onlined" read-only (a mount event with
 * `ro`, and nothing in its folder written), the work list fetched, every requested path walked,
 * small files sent in packs through the `K` URLs (the cancel marker asked before each) and the
 * others hashed and PUT to their own signed URLs, the manifest written in the Linux script's record
 * format and PUT, the cancel marker honoured, the `ECSB` lines printed, the disk offlined.
 */

const OWNER = 'BUILTIN\\Administrators';
/** The script asks for the cancel marker at most this often. */
const CANCEL_EVERY_MS = 2000;

class Stop extends Error {
  constructor(
    readonly why: string,
    readonly code: number,
  ) {
    super(why);
  }
}

/** True for a script that is the Windows export script (its parameter block names a work list). */
export function isWindowsExport(script: string): boolean {
  return /^#--- ecsb parameters ---\r?\n(?:\$\w+ = .*\r?\n)*\$WorkUrl = /m.test(script);
}

/** The `$Name = 'value'` or `$Name = 123` lines between the script's parameter markers. */
export function exportParameters(script: string): Record<string, string> {
  const out: Record<string, string> = {};
  let inBlock = false;
  for (const line of script.split(/\r?\n/)) {
    if (line.startsWith('#--- ecsb parameters')) inBlock = true;
    else if (line.startsWith('#--- end ecsb parameters')) break;
    const kv = inBlock ? /^\$([A-Za-z]+) = (?:'((?:[^']|'')*)'|(\d+))\s*$/.exec(line) : null;
    if (kv?.[1]) out[kv[1]] = kv[2] !== undefined ? kv[2].replace(/''/g, "'") : (kv[3] ?? '');
  }
  return out;
}

export async function simulateWindowsExport(
  state: EcsState,
  inst: InstanceRecord,
  script: string,
  invokeId: string,
): Promise<{ text: string; exitCode: number }> {
  const run = new ExportRun(state, inst, exportParameters(script), invokeId);
  try {
    await run.main();
    return { text: run.result(), exitCode: 0 };
  } catch (err) {
    const stop = err instanceof Stop ? err : new Stop(`export script failed: ${(err as Error).message}`, 1);
    return { text: `ECSB export_error=${oneLine(stop.why)}\r\n`, exitCode: stop.code };
  } finally {
    run.offline();
  }
}

const oneLine = (s: string): string =>
  s
    .replace(/[\r\n\t]+/g, ' ')
    .trim()
    .slice(0, 500);

class ExportRun {
  private readonly records: Buffer[] = [];
  private readonly seen = new Set<string>();
  private urls: string[] = [];
  private packs = new PackQueue({ fileBytes: 0, bytes: 0, files: 0 }, []);
  private blobs = 0;
  private files = 0;
  private bytes = 0;
  private skipped = 0;
  private lastCancelCheck = Date.now();
  private online: { diskId: string; number: number } | null = null;
  private root = '';

  constructor(
    private readonly state: EcsState,
    private readonly inst: InstanceRecord,
    private readonly p: Record<string, string>,
    private readonly invokeId: string,
  ) {}

  async main(): Promise<void> {
    const list = await this.fetchText(this.p['WorkUrl'] ?? '').catch((err: Error) => {
      throw new Stop(`the work list could not be fetched: ${err.message}`, 4);
    });
    const lines = list.split('\n');
    const wanted = lines
      .filter((l) => l.startsWith('P '))
      .map((l) => Buffer.from(l.slice(2), 'base64').toString('utf8'));
    this.urls = lines.filter((l) => l.startsWith('U ')).map((l) => l.slice(2));
    const limit = (name: string) => Number(this.p[name] ?? 0);
    this.packs = new PackQueue(
      { fileBytes: limit('PackFileBytes'), bytes: limit('PackBytes'), files: limit('PackFiles') },
      lines.filter((l) => l.startsWith('K ')).map((l) => l.slice(2)),
    );
    this.bringOnline(this.p['DiskSerial'] ?? '');
    for (const p of wanted) await this.exportPath(p);
    await this.sendPack();
    if (await this.canceled(true)) throw new Stop('canceled', 7);
    await this.put(this.p['ManifestUrl'] ?? '', Buffer.concat(this.records)).catch((err: Error) => {
      throw new Stop(`the manifest upload failed: ${err.message}`, 6);
    });
  }

  result(): string {
    return [
      `ECSB files=${this.files}`,
      `ECSB bytes=${this.bytes}`,
      `ECSB skipped=${this.skipped}`,
      `ECSB device=disk ${this.online?.number ?? '?'} (E:)`,
      '',
    ].join('\r\n');
  }

  /** Set-Disk -IsReadOnly, then -IsOffline $false and a drive letter: recorded as a read-only mount. */
  private bringOnline(serial: string): void {
    const disks = this.state.disksOf(this.inst.instanceId, Date.now());
    const index = disks.findIndex(
      (d) =>
        d.diskId === `d-${serial}` &&
        d.status === 'In_use' &&
        !d.pending &&
        d.instanceId === this.inst.instanceId,
    );
    const disk = disks[index];
    if (!serial || !disk) throw new Stop(`no disk with serial number ${serial} is attached`, 5);
    this.root = this.state.trees.ensureDisk(disk.diskId);
    this.online = { diskId: disk.diskId, number: index };
    this.log('mount', true);
  }

  /** Set-Disk -IsOffline $true, whatever happened. */
  offline(): void {
    if (this.online) this.log('umount', true);
    this.online = null;
  }

  private log(action: 'mount' | 'umount', ok: boolean): void {
    this.state.mountLog.push({
      instanceId: this.inst.instanceId,
      action,
      device: `disk ${this.online?.number ?? '?'}`,
      mountPoint: 'E:\\',
      options: 'ro',
      at: Date.now(),
      ok,
      invokeId: this.invokeId,
    });
  }

  private async exportPath(p: string): Promise<void> {
    const parts = p.split('/').filter(Boolean);
    const rel = `\\${parts.join('\\')}`;
    // The directories above, so the tree browses from the root; a link on the way is not followed.
    for (let i = 1; i < parts.length; i += 1) {
      const at = `\\${parts.slice(0, i).join('\\')}`;
      const st = this.lstat(at);
      if (!st) break;
      if (st.isSymbolicLink()) return this.skip(rel, 'a link on the way is not followed');
      await this.add(at, st);
    }
    const st = this.lstat(rel);
    if (!st) return this.skip(rel, 'does not exist on the disk');
    const stack: string[] = [];
    if (await this.add(rel, st)) stack.push(rel);
    while (stack.length > 0) {
      const dir = stack.pop()!;
      for (const name of fs.readdirSync(this.host(dir)).sort()) {
        const child = dir === '\\' ? `\\${name}` : `${dir}\\${name}`;
        const cst = this.lstat(child);
        if (cst && (await this.add(child, cst))) stack.push(child);
      }
    }
  }

  /** One manifest record; true for a directory to walk into. */
  private async add(rel: string, st: fs.Stats): Promise<boolean> {
    if (this.seen.has(rel.toLowerCase())) return false;
    this.seen.add(rel.toLowerCase());
    const mtime = Math.floor(st.mtimeMs / 1000);
    if (st.isSymbolicLink()) {
      const target = this.linkTarget(rel);
      if (target === null) this.skip(rel, 'a link that leads off the volume is not exported');
      else this.emit(`l\t0\t777\t${OWNER}\t${mtime}\t-\t-`, rel, target);
      return false;
    }
    if (st.isDirectory()) {
      this.emit(`d\t0\t755\t${OWNER}\t${mtime}\t-\t-`, rel, '');
      return true;
    }
    if (!st.isFile()) {
      this.skip(rel, 'a reparse point that is not a link (deduplicated, cloud or app file) is not exported');
      return false;
    }
    const maxFiles = Number(this.p['MaxFiles'] ?? 0);
    const maxBytes = Number(this.p['MaxBytes'] ?? 0);
    if (this.files >= maxFiles) return this.skipFalse(rel, `over the limit of ${maxFiles} files per export`);
    if (this.bytes + st.size > maxBytes)
      return this.skipFalse(rel, `over the limit of ${maxBytes} bytes per export`);
    const fields = `${st.size}\t${st.mode & 0o200 ? '644' : '444'}\t${OWNER}\t${mtime}`;
    if (this.packs.takes(st.size) && this.packs.full(st.size)) await this.sendPack();
    // Asked again: the pack just sent may have used the last pack URL.
    if (this.packs.takes(st.size)) {
      this.packs.add({ rel, host: this.host(rel), size: st.size, fields });
      this.files += 1;
      this.bytes += st.size;
      return false;
    }
    if (await this.canceled(false)) throw new Stop('canceled', 7);
    const bytes = fs.readFileSync(this.host(rel));
    const sum = createHash('sha256').update(bytes).digest('hex');
    const blob = this.blobs;
    await this.put(this.urls[blob] ?? '', bytes).catch((err: Error) => {
      throw new Stop(`an upload failed: ${err.message}`, 6);
    });
    this.emit(`f\t${fields}\t${sum}\t${blob}`, rel, '');
    this.blobs += 1;
    this.files += 1;
    this.bytes += st.size;
    return false;
  }

  /** Send-Pack: the cancel marker asked, then one PUT of the pack, then its files' records. */
  private async sendPack(): Promise<void> {
    if (this.packs.empty) return;
    if (await this.canceled(true)) throw new Stop('canceled', 7);
    const { body, placed } = this.packs.build();
    await this.put(this.packs.url, body).catch((err: Error) => {
      throw new Stop(`a pack upload failed: ${err.message}`, 6);
    });
    for (const f of placed) {
      if ('why' in f) {
        this.skip(f.rel, `cannot be read: ${oneLine(f.why).slice(0, 200)}`);
        this.files -= 1;
        this.bytes -= f.size;
      } else this.emit(`f\t${f.fields}\t${f.sha256}\tp${this.packs.sent}@${f.offset}`, f.rel, '');
    }
    this.packs.next();
  }

  /** A link's target in the volume's terms, or null when it leaves the volume (as Get-LinkTarget decides). */
  private linkTarget(rel: string): string | null {
    const raw = fs.readlinkSync(this.host(rel));
    if (path.isAbsolute(raw)) {
      const inside = path.relative(this.root, raw);
      if (inside.startsWith('..') || path.isAbsolute(inside)) return null;
      return `\\${inside.split(path.sep).join('\\')}`;
    }
    let depth = rel.split('\\').filter(Boolean).length - 1;
    for (const part of raw.split(/[\\/]/)) {
      if (part === '..') depth -= 1;
      else if (part !== '.' && part !== '') depth += 1;
      if (depth < 0) return null;
    }
    return raw.replace(/\//g, '\\');
  }

  private host(rel: string): string {
    return path.join(this.root, ...rel.split('\\').filter(Boolean));
  }

  private lstat(rel: string): fs.Stats | null {
    try {
      return fs.lstatSync(this.host(rel));
    } catch {
      return null;
    }
  }

  private emit(fields: string, rel: string, extra: string): void {
    this.records.push(Buffer.from(`${fields}\0${rel}\0${extra}\0`, 'utf8'));
  }

  private skip(rel: string, why: string): void {
    this.emit('x\t-\t-\t-\t-\t-\t-', rel, why);
    this.skipped += 1;
  }

  private skipFalse(rel: string, why: string): false {
    this.skip(rel, why);
    return false;
  }

  private async canceled(now: boolean): Promise<boolean> {
    if (!now && Date.now() - this.lastCancelCheck < CANCEL_EVERY_MS) return false;
    this.lastCancelCheck = Date.now();
    try {
      const res = await fetch(this.p['CancelUrl'] ?? '', { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  private async fetchText(url: string): Promise<string> {
    const res = await fetch(url, { signal: AbortSignal.timeout(300_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.text();
  }

  /** Send-File: a PUT without a Content-Type (the URL was signed without one), three tries. */
  private async put(url: string, body: Buffer): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const res = await fetch(url, {
          method: 'PUT',
          body: new Uint8Array(body),
          signal: AbortSignal.timeout(3_600_000),
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
        await new Promise((r) => setTimeout(r, attempt * 100));
      }
    }
  }
}
