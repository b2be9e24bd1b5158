import { randomBytes } from 'node:crypto';
import fs from 'node:fs';

/**
 * Who holds a received message. A process that dies keeps its messages invisible until their
 * visibility timeout (minutes); a queue opened later releases them at once when their holder is
 * gone. The holder is named by pid and the pid's start time, so a pid reused by a later process is
 * not taken for the one that died, plus one part per open queue, so a queue closed in a process
 * that lives on counts as gone too.
 */
const THIS_PROCESS = `${process.pid}:${processStart(process.pid)}`;
const openHere = new Set<string>();

export function newLeaseOwner(): string {
  const owner = `${THIS_PROCESS}:${randomBytes(6).toString('base64url')}`;
  openHere.add(owner);
  return owner;
}

export function endLeaseOwner(owner: string): void {
  openHere.delete(owner);
}

export function leaseOwnerAlive(owner: string): boolean {
  const [pidText = '', start = ''] = owner.split(':');
  if (`${pidText}:${start}` === THIS_PROCESS) return openHere.has(owner);
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // Where the start time cannot be read (no /proc), a live pid is trusted.
  const now = processStart(pid);
  return now === '' || start === '' || now === start;
}

/** Clock ticks since boot at which the process started (field 22 of /proc/<pid>/stat); '' if unknown. */
function processStart(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}
