import { readFileSync } from 'node:fs';
import { ValidationError, type ValidationIssue } from '../domain/errors.js';
import type { ConsistencyOptions, OsType } from '../domain/model.js';
import type { ScriptType } from '../ports/ecs.js';

/** Cloud Assistant accepts 16 KB of script in its older limit (24 KB after base64 in the newer one). */
export const MAX_SCRIPT_BYTES = 16 * 1024;

export interface LinuxBackupParams {
  /** Pre-signed CreateSnapshotGroup URL (`Ecs.presignCreateSnapshotGroup`). */
  snapshotUrl: string;
  applicationConsistent: boolean;
  fsFreeze: boolean;
  /** Freeze timeout: the watchdog thaws after this many seconds whatever happens (1..1800). */
  timeoutSeconds: number;
  onPreScriptFailure: 'continue' | 'fail';
  /** Default: `timeoutSeconds`, at most 600 (see `defaultHookTimeout`). */
  preScriptTimeoutSeconds?: number;
  /** Default: `timeoutSeconds`, at most 600. */
  postScriptTimeoutSeconds?: number;
  /** curl's `--max-time` for the snapshot request; must end before the freeze timeout. Default min(10, timeout/2). */
  requestTimeoutSeconds?: number;
}

export interface WindowsBackupParams {
  snapshotUrl: string;
  /** VSS writers take part (application-consistent) or not (file-system-consistent). */
  writers: boolean;
  timeoutSeconds: number;
}

const templates = new Map<string, string>();

function template(name: string): string {
  let text = templates.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');
    templates.set(name, text);
  }
  return text;
}

/** Bash single quotes take everything literally; a quote itself is closed, escaped and reopened. */
export function bashQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** PowerShell single quotes: the only escape is doubling, and the typographic single quotes count as quotes too. */
export function powershellQuote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, (q) => q + q)}'`;
}

/**
 * The pre-signed request carries a timestamp ECS accepts for about 15 minutes; it is sent after the
 * pre-script, so a pre-script may not eat that window by default.
 */
export function defaultHookTimeout(timeoutSeconds: number): number {
  return Math.min(600, timeoutSeconds);
}

function checkUrl(url: unknown, issues: ValidationIssue[]): string {
  if (typeof url !== 'string' || url === '') {
    issues.push({ path: 'snapshotUrl', message: 'must be a non-empty string' });
    return '';
  }
  // The URL travels inside a curl config string and a PowerShell literal: a signed URL is fully
  // percent-encoded, so whitespace, control characters, double quotes and backslashes mean tampering.
  if (/[\s"\\]/.test(url) || [...url].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    issues.push({ path: 'snapshotUrl', message: 'must not contain whitespace, control characters, " or \\' });
  } else if (!/^https?:\/\/[^/?#]+/i.test(url)) {
    issues.push({ path: 'snapshotUrl', message: 'must be an http or https URL' });
  }
  return url;
}

function checkSeconds(
  value: unknown,
  path: string,
  min: number,
  max: number,
  issues: ValidationIssue[],
  integer = true,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    issues.push({ path, message: integer ? 'must be an integer' : 'must be a number' });
    return min;
  }
  if (value < min || value > max) issues.push({ path, message: `must be between ${min} and ${max}` });
  return value;
}

function checkBoolean(value: unknown, path: string, issues: ValidationIssue[]): boolean {
  if (typeof value !== 'boolean') issues.push({ path, message: 'must be a boolean' });
  return value === true;
}

function finalize(script: string, issues: ValidationIssue[]): string {
  if (Buffer.byteLength(script, 'utf8') > MAX_SCRIPT_BYTES) {
    issues.push({ path: '', message: `rendered script exceeds ${MAX_SCRIPT_BYTES} bytes` });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return script;
}

function replaceBlock(text: string, start: string, end: string, block: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`guest script template lacks its parameter markers (${start})`);
  return `${text.slice(0, from)}${block}${text.slice(to + end.length)}`;
}

/** The Linux guest script with its parameters set; comment lines are dropped to save Cloud Assistant bytes. */
export function renderLinuxBackupScript(params: LinuxBackupParams): string {
  const issues: ValidationIssue[] = [];
  const url = checkUrl(params.snapshotUrl, issues);
  const app = checkBoolean(params.applicationConsistent, 'applicationConsistent', issues);
  const freeze = checkBoolean(params.fsFreeze, 'fsFreeze', issues);
  const timeout = checkSeconds(params.timeoutSeconds, 'timeoutSeconds', 1, 1800, issues);
  // Defaults derive from a usable timeout, so one bad value is reported once, under its own name.
  const base = Math.min(1800, Math.max(1, Math.round(timeout)));
  const pre = checkSeconds(
    params.preScriptTimeoutSeconds ?? defaultHookTimeout(base),
    'preScriptTimeoutSeconds',
    1,
    3600,
    issues,
  );
  const post = checkSeconds(
    params.postScriptTimeoutSeconds ?? defaultHookTimeout(base),
    'postScriptTimeoutSeconds',
    1,
    3600,
    issues,
  );
  const request = checkSeconds(
    params.requestTimeoutSeconds ?? Math.min(10, base / 2),
    'requestTimeoutSeconds',
    0.5,
    base,
    issues,
    false,
  );
  if (params.onPreScriptFailure !== 'continue' && params.onPreScriptFailure !== 'fail') {
    issues.push({ path: 'onPreScriptFailure', message: "must be 'continue' or 'fail'" });
  }
  const block = [
    `ECSB_SNAPSHOT_URL=${bashQuote(url)}`,
    `ECSB_APP_CONSISTENT=${app ? 1 : 0}`,
    `ECSB_FS_FREEZE=${freeze ? 1 : 0}`,
    `ECSB_FREEZE_TIMEOUT=${timeout}`,
    `ECSB_PRE_TIMEOUT=${pre}`,
    `ECSB_POST_TIMEOUT=${post}`,
    `ECSB_REQUEST_TIMEOUT=${request}`,
    `ECSB_ON_PRE_FAILURE=${params.onPreScriptFailure === 'fail' ? 'fail' : 'continue'}`,
  ].join('\n');
  const withParams = replaceBlock(
    template('linux-backup.sh'),
    '#--- ecsb parameters ---',
    '#--- end ecsb parameters ---',
    block,
  );
  const lines = withParams.split('\n');
  const kept = lines.filter((line, i) => i === 0 || !/^\s*#/.test(line));
  return finalize(kept.join('\n'), issues);
}

/**
 * The Windows guest script. Its first lines are exactly `$SnapshotUrl = '...'`, `$Writers = $true|$false`
 * and `$TimeoutSeconds = N`, which the local ECS emulator reads to simulate VSS.
 */
export function renderWindowsBackupScript(params: WindowsBackupParams): string {
  const issues: ValidationIssue[] = [];
  const url = checkUrl(params.snapshotUrl, issues);
  const writers = checkBoolean(params.writers, 'writers', issues);
  const timeout = checkSeconds(params.timeoutSeconds, 'timeoutSeconds', 1, 1800, issues);
  const block = [
    `$SnapshotUrl = ${powershellQuote(url)}`,
    `$Writers = ${writers ? '$true' : '$false'}`,
    `$TimeoutSeconds = ${timeout}`,
  ].join('\n');
  const script = replaceBlock(
    template('windows-backup.ps1'),
    '#--- ecsb parameters ---',
    '#--- end ecsb parameters ---',
    block,
  );
  return finalize(script, issues);
}

/**
 * A RunCommand `Timeout` that lets the Linux script finish on its own: pre-script (+5 s kill grace),
 * freeze, post-script, plus margin for start-up. Cloud Assistant kills the script when it passes.
 */
export function linuxCommandTimeoutSeconds(params: LinuxBackupParams): number {
  const pre = params.preScriptTimeoutSeconds ?? defaultHookTimeout(params.timeoutSeconds);
  const post = params.postScriptTimeoutSeconds ?? defaultHookTimeout(params.timeoutSeconds);
  return pre + 5 + params.timeoutSeconds + post + 5 + 30;
}

/**
 * The RunCommand fields for one guest backup, straight from a plan's consistency options: the
 * script for the instance's OS and a command timeout that lets it finish on its own.
 */
export function renderGuestCommand(
  os: OsType,
  snapshotUrl: string,
  consistency: ConsistencyOptions,
): { type: ScriptType; content: string; timeoutSeconds: number } {
  if (os === 'windows') {
    const content = renderWindowsBackupScript({
      snapshotUrl,
      writers: consistency.windowsWriters,
      timeoutSeconds: consistency.timeoutSeconds,
    });
    // VSS, the request and the clean-up, with room for a slow WMI start.
    return { type: 'RunPowerShellScript', content, timeoutSeconds: consistency.timeoutSeconds * 2 + 60 };
  }
  const params: LinuxBackupParams = {
    snapshotUrl,
    applicationConsistent: consistency.applicationConsistent,
    fsFreeze: consistency.fsFreeze,
    timeoutSeconds: consistency.timeoutSeconds,
    onPreScriptFailure: consistency.onPreScriptFailure,
  };
  return {
    type: 'RunShellScript',
    content: renderLinuxBackupScript(params),
    timeoutSeconds: linuxCommandTimeoutSeconds(params),
  };
}
