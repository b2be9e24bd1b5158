import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** ECS resource ids: a prefix (`i-`, `d-`, `s-`...) and random lower-case letters and digits. */
export function newId(prefix: string, length = 20): string {
  const bytes = randomBytes(length);
  let s = prefix;
  for (let i = 0; i < length; i++) s += ALPHABET[(bytes[i] as number) % ALPHABET.length];
  return s;
}

const isoCache = new Map<number, string>();

/** ECS time format (no milliseconds); memoised because listings format the same times again and again. */
export function iso(t: number): string {
  const second = Math.floor(t / 1000);
  let s = isoCache.get(second);
  if (s === undefined) {
    if (isoCache.size > 200_000) isoCache.clear();
    s = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    isoCache.set(second, s);
  }
  return s;
}
