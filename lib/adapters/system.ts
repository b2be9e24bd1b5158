import { randomBytes } from 'node:crypto';
import type { Clock, IdSource } from '../ports/clock.js';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

export class SystemClock implements Clock {
  now(): number {
    // The one place lib/ reads the system time.
    // eslint-disable-next-line no-restricted-syntax
    return Date.now();
  }
}

/** Random ids: prefix + 20 base-36 characters (~103 bits). */
export class RandomIds implements IdSource {
  next(prefix: string): string {
    const bytes = randomBytes(20);
    let out = '';
    for (const b of bytes) out += ALPHABET[b % 36];
    return `${prefix}${out}`;
  }
}
