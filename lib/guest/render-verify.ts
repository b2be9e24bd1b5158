import { readFileSync } from 'node:fs';
import { bashQuote } from './render.js';

export interface LinuxVerifyParams {
  /** Per temporary disk: its id and the device names to try in order. */
  disks: { diskId: string; devices: string[] }[];
  /** Run `/tmp/verifyscript.sh <mountpoint>` when it is valid. */
  runScript: boolean;
  scriptTimeoutSeconds: number;
  mountBase?: string;
}

let template: string | undefined;

/** The verify script with its parameters in place, each quoted for bash. */
export function renderLinuxVerifyScript(params: LinuxVerifyParams): string {
  template ??= readFileSync(new URL('./linux-verify.sh', import.meta.url), 'utf8');
  const values: Record<string, string> = {
    DISK_IDS: params.disks.map((d) => bashQuote(d.diskId)).join(' '),
    DISK_DEVICES: params.disks.map((d) => bashQuote(d.devices.join(' '))).join(' '),
    RUN_SCRIPT: params.runScript ? '1' : '0',
    SCRIPT_TIMEOUT: String(Math.max(1, Math.floor(params.scriptTimeoutSeconds))),
    MOUNT_BASE: bashQuote(params.mountBase ?? '/mnt'),
  };
  return template.replace(/__([A-Z_]+)__/g, (whole, name: string) => values[name] ?? whole);
}
