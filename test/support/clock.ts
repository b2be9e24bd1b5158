import type { Clock, IdSource } from '../../lib/ports/clock.js';

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  constructor(private current: number) {}
  now(): number {
    return this.current;
  }
  set(t: number): void {
    this.current = t;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** Deterministic ids: prefix + counter. */
export class SequentialIds implements IdSource {
  private n = 0;
  next(prefix: string): string {
    this.n += 1;
    return `${prefix}${String(this.n).padStart(6, '0')}`;
  }
}
