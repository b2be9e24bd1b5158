/**
 * Where the CLI finds its endpoint and token: flags, then the environment (`ECS_BACKUP_ENDPOINT`,
 * `ECS_BACKUP_TOKEN`), then the file `ecs-backup login` writes. The file holds a secret, so it is
 * written 0600 in a 0700 folder and refused (with the fix named) when others can read it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from './errors.js';

export interface Connection {
  endpoint: string;
  token: string;
}

export interface SavedConfig {
  endpoint?: string;
  token?: string;
}

export interface ConnectionFlags {
  endpoint?: string;
  token?: string;
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env['ECS_BACKUP_CONFIG']) return env['ECS_BACKUP_CONFIG'];
  const base = env['XDG_CONFIG_HOME'] || path.join(env['HOME'] || os.homedir(), '.config');
  return path.join(base, 'ecs-backup', 'config.json');
}

export function readConfig(file = configPath()): SavedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  if ((fs.statSync(file).mode & 0o077) !== 0)
    throw new UsageError(`${file} holds a token and is readable by others: chmod 600 ${file}`);
  try {
    const parsed = JSON.parse(text) as SavedConfig;
    return {
      ...(parsed.endpoint ? { endpoint: parsed.endpoint } : {}),
      ...(parsed.token ? { token: parsed.token } : {}),
    };
  } catch {
    throw new UsageError(`${file} is not valid JSON; run \`ecs-backup login\` again`);
  }
}

/** Writes atomically (temp file then rename) so a crash never leaves half a token behind. */
export function writeConfig(config: SavedConfig, file = configPath()): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/** The API root without `/api/v1`, so both the banner's URL and the bare origin work. */
export function normalizeEndpoint(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`endpoint: "${raw}" is not a URL (e.g. ${DEFAULT_ENDPOINT})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`endpoint: must be http or https, not ${url.protocol}`);
  return url
    .toString()
    .replace(/\/+$/, '')
    .replace(/\/api\/v1$/, '');
}

export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  let endpoint = flags.endpoint ?? env['ECS_BACKUP_ENDPOINT'];
  let token = flags.token ?? env['ECS_BACKUP_TOKEN'];
  // The saved login is read only when something is missing, so flags and env work without it.
  if (endpoint === undefined || token === undefined) {
    const saved = readConfig(configPath(env));
    endpoint ??= saved.endpoint;
    token ??= saved.token;
  }
  endpoint ??= DEFAULT_ENDPOINT;
  if (!token)
    throw new UsageError('no API token: pass --token, set ECS_BACKUP_TOKEN, or run `ecs-backup login`');
  return { endpoint: normalizeEndpoint(endpoint), token };
}
