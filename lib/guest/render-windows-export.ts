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
}

const START = '#--- ecsb parameters ---';
const END = '#--- end ecsb parameters ---';
let template: string | undefined;

/**
 * The Windows export script. Its parameter block, between its marker lines, is one `$Name = value`
 * line each, PowerShell single-quoted, which the local ECS emulator reads to simulate the script;
 * the comment lines after it are dropped to save Cloud Assistant bytes.
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
  ].join('\n');
  const from = template.indexOf(START);
  const to = template.indexOf(END);
  if (from < 0 || to < from) throw new Error('the Windows export script lacks its parameter markers');
  const body = template
    .slice(to + END.length)
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n');
  const script = `${template.slice(0, from)}${START}\n${block}\n${END}${body}`;
  if (Buffer.byteLength(script, 'utf8') > MAX_SCRIPT_BYTES) {
    throw new Error(`the rendered Windows export script exceeds ${MAX_SCRIPT_BYTES} bytes`);
  }
  return script;
}
