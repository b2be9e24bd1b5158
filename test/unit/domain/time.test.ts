import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lib/domain/errors.js';
import { formatDuration, isoSeconds } from '../../../lib/domain/time.js';

describe('formatDuration', () => {
  it.each([
    { ms: 0, text: '0s' },
    { ms: 999, text: '0s' },
    { ms: 45_000, text: '45s' },
    { ms: 3_600_000, text: '1h' },
    { ms: 3_601_000, text: '1h 1s' },
    { ms: 3_725_000, text: '1h 2m' },
    { ms: 3 * 86_400_000 + 7_200_000 + 59_000, text: '3d 2h' },
    { ms: -90_000, text: '-1m 30s' },
  ])('$ms ms -> $text', ({ ms, text }) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('isoSeconds', () => {
  it('drops the milliseconds', () => {
    expect(isoSeconds(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05Z');
  });
});

describe('DomainError', () => {
  it('names itself and keeps its cause', () => {
    const cause = new Error('root');
    const e = new DomainError('wrapped', { cause });
    expect(e.name).toBe('DomainError');
    expect(e.cause).toBe(cause);
    expect(e).toBeInstanceOf(Error);
  });
});
