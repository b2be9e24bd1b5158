import { readFileSync } from 'node:fs';
import { bashQuote, MAX_SCRIPT_BYTES } from './render.js';

export interface LinuxExportParams {
  /** Device names to try in order: the by-id name from the disk's serial, then the ECS names. */
  devices: string[];
  /** Signed GET of the work list: `P <base64 path>` lines, then one `U <signed PUT URL>` per file. */
  workUrl: string;
  /** Signed PUT of the manifest. */
  manifestUrl: string;
  /** Signed GET of the cancel marker: 200 once the job asks the script to stop. */
  cancelUrl: string;
  maxFiles: number;
  maxBytes: number;
  /** Where the temporary mount point is made. */
  mountBase?: string;
  /** Small files go into packs (with `K` URLs in the work list): below which size, and how full. */
  pack?: { fileBytes: number; bytes: number; files: number };
}

let template: string | undefined;

/**
 * The script as sent: comment lines (bash's and awk's, both whole lines starting with `#`), blank
 * lines and indentation dropped, since Cloud Assistant takes 16 KB and three signed URLs with STS
 * tokens take several of them. The script holds no here-document, whose lines this would change.
 */
function sendable(source: string): string {
  const [shebang, ...rest] = source.split('\n');
  const kept = rest.map((line) => line.trimStart()).filter((line) => line !== '' && !line.startsWith('#'));
  return [shebang, ...kept, ''].join('\n');
}

/** The export script with its parameters in place, each quoted for bash. */
export function renderLinuxExportScript(params: LinuxExportParams): string {
  template ??= sendable(readFileSync(new URL('./linux-export.sh', import.meta.url), 'utf8'));
  const values: Record<string, string> = {
    DEVICES: bashQuote(params.devices.join(' ')),
    WORK_URL: bashQuote(params.workUrl),
    MANIFEST_URL: bashQuote(params.manifestUrl),
    CANCEL_URL: bashQuote(params.cancelUrl),
    MAX_FILES: String(Math.floor(params.maxFiles)),
    MAX_BYTES: String(Math.floor(params.maxBytes)),
    MOUNT_BASE: bashQuote(params.mountBase ?? '/mnt'),
    PACK_FILE_BYTES: String(Math.floor(params.pack?.fileBytes ?? 0)),
    PACK_BYTES: String(Math.floor(params.pack?.bytes ?? 0)),
    PACK_FILES: String(Math.floor(params.pack?.files ?? 0)),
  };
  const script = template.replace(/__([A-Z_]+)__/g, (whole, name: string) => values[name] ?? whole);
  if (Buffer.byteLength(script, 'utf8') > MAX_SCRIPT_BYTES) {
    throw new Error(`the rendered Linux export script exceeds ${MAX_SCRIPT_BYTES} bytes`);
  }
  return script;
}

/**
 * The work list the guest fetches: the requested paths, one upload URL per file it may send, and
 * (optional: a guest that does not pack ignores them) one per pack of small files.
 */
export function renderWorkList(
  paths: readonly string[],
  uploadUrls: readonly string[],
  packUrls: readonly string[] = [],
): string {
  return [
    ...paths.map((p) => `P ${Buffer.from(p, 'utf8').toString('base64')}`),
    ...uploadUrls.map((u) => `U ${u}`),
    ...packUrls.map((u) => `K ${u}`),
    '',
  ].join('\n');
}

/** The summary lines the script prints (`ECSB name=value`). */
export function readExportOutput(output: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of output.split(/\r?\n/)) {
    const m = /^ECSB ([a-z_]+)=(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}
