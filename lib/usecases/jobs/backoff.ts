/**
 * The one backoff of job work: exponential from `baseSeconds`, at most a minute, with jitter in the
 * upper half so that jobs delayed together (one throttled burst) do not come back together.
 */
export function retryDelaySeconds(
  retries: number,
  baseSeconds: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(60, Math.max(1, baseSeconds) * 2 ** Math.min(Math.max(0, retries - 1), 6));
  return Math.max(1, Math.round(ceiling * (0.5 + random() * 0.5)));
}
