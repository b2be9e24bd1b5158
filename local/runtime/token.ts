import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const TOKEN_FILE = 'api-token';

/**
 * The local API's bearer token: API_TOKEN when set, else the one generated on first start and kept
 * (mode 0600) in the data folder, so restarts keep working with the token already printed.
 */
export function resolveApiToken(dataDir: string, configured?: string): { token: string; generated: boolean } {
  if (configured) return { token: configured, generated: false };
  const file = path.join(dataDir, TOKEN_FILE);
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing.length >= 16) return { token: existing, generated: false };
  } catch {
    // First start: create it below.
  }
  const token = randomBytes(24).toString('base64url');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, generated: true };
}
