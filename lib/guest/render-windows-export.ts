import { readFileSync } from 'node:fs';
import { MAX_SCRIPT_BYTES, powershellQuote } from './render.js';

export interface WindowsExportParams {
  /** The disk's serial number as Windows reports it: ECS sets it to the disk id without `d-`. */
  diskSerial: string;
  /** Signed GET of the work list (the Linux script's): `P <base64 path>` lines, then `U <signed PUT URL>` lines. */
  workUrl: string;
  /** Signed PUT of the manifest. */
  manifestUrl: string;
  /** Signed GET of the cancel marker: 200 once the job asks the script to stop. */
  cancelUrl: string;
  maxFiles: number;
  maxBytes: number;
  /** The volume's letter on the backed-up instance, so `C:\...` link targets are known to stay on it; '' when unknown. */
  sourceDrive: string;
  /** Small files go into packs (with `K` URLs in the work list): below which size, and how full. */
  pack?: { fileBytes: number; bytes: number; files: number };
}

const START = '#--- ecsb parameters ---';
const END = '#--- end ecsb parameters ---';
let template: string | undefined;

/**
 * The Windows export script. Its parameter block, between its marker lines, is one `$Name = value`
 * line each, PowerShell single-quoted, which the local ECS emulator reads to simulate the script.
 * After it, comment and blank lines and indentation are dropped: Cloud Assistant takes 16 KB, and
 * three signed URLs carrying an STS token take several of them. The script has no here-string, whose
 * lines would change meaning.
 */
export function renderWindowsExportScript(params: WindowsExportParams): string {
  template ??= readFileSync(new URL('./windows-export.ps1', import.meta.url), 'utf8');
  const drive = /^[A-Za-z]?$/.test(params.sourceDrive) ? params.sourceDrive.toUpperCase() : '';
  const block = [
    `$DiskSerial = ${powershellQuote(params.diskSerial)}`,
    `$WorkUrl = ${powershellQuote(params.workUrl)}`,
    `$ManifestUrl = ${powershellQuote(params.manifestUrl)}`,
    `$CancelUrl = ${powershellQuote(params.cancelUrl)}`,
    `$MaxFiles = ${Math.floor(params.maxFiles)}`,
    `$MaxBytes = ${Math.floor(params.maxBytes)}`,
    `$SourceDrive = ${powershellQuote(drive)}`,
    `$PackFileBytes = ${Math.floor(params.pack?.fileBytes ?? 0)}`,
    `$PackBytes = ${Math.floor(params.pack?.bytes ?? 0)}`,
    `$PackFiles = ${Math.floor(params.pack?.files ?? 0)}`,
  ].join('\n');
  const from = template.indexOf(START);
  const to = template.indexOf(END);
  if (from < 0 || to < from) throw new Error('the Windows export script lacks its parameter markers');
  const rest = template.slice(to + END.length);
  if (/@['"]\s*$/m.test(rest)) throw new Error('the Windows export script holds a here-string');
  const body = rest
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .join('\n');
  const script = `${template.slice(0, from)}${START}\n${block}\n${END}\n${body}\n`;
  if (Buffer.byteLength(script, 'utf8') > MAX_SCRIPT_BYTES) {
    throw new Error(`the rendered Windows export script exceeds ${MAX_SCRIPT_BYTES} bytes`);
  }
  return script;
}
