/**
 * Wakes long polls in this process as soon as a message is sent to their queue. Senders in
 * other processes are only seen by the poll interval, which bounds the extra latency.
 */
const waiters = new Map<string, Set<() => void>>();

export function notifyQueue(key: string): void {
  const set = waiters.get(key);
  if (set === undefined) return;
  waiters.delete(key);
  for (const wake of set) wake();
}

/** Resolves on the next notification for `key` or after `ms`, whichever is first. */
export function waitForQueue(key: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let set = waiters.get(key);
    if (set === undefined) {
      set = new Set();
      waiters.set(key, set);
    }
    const wake = (): void => {
      clearTimeout(timer);
      const current = waiters.get(key);
      if (current !== undefined && current.delete(wake) && current.size === 0) waiters.delete(key);
      resolve();
    };
    const timer = setTimeout(wake, Math.max(0, ms));
    set.add(wake);
  });
}
