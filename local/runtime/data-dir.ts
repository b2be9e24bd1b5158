import fs from 'node:fs';
import path from 'node:path';

/**
 * The data folder holds every plan, job and backup record and the API token: only its owner may
 * enter it (0700) and read the databases (0600). SQLite gives its -wal and -shm files the mode of
 * the database file, so creating each database 0600 before the first open covers them too.
 * Folders and files made by an older version are tightened on every start.
 */
export function secureDataDir(dataDir: string, databases: readonly string[]): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
  for (const name of databases) {
    const file = path.join(dataDir, name);
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
      try {
        fs.chmodSync(f, 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
}

/** The token as shown after its first start: enough to tell tokens apart, too little to use. */
export function shortToken(token: string): string {
  return `${token.slice(0, 4)}…${token.slice(-2)}`;
}
