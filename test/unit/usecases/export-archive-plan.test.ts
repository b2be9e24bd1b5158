import { describe, expect, it } from 'vitest';
import {
  ArchiveBudget,
  partSizeFor,
  planArchiveParts,
  type ArchivePart,
} from '../../../lib/usecases/export/archive-plan.js';
import { MAX_UPLOAD_PARTS } from '../../../lib/ports/object-store.js';

/** What every plan must be: contiguous from 0 to the end, no member empty or above the size. */
function expectCovering(plan: ArchivePart[], spans: number[], partBytes: number) {
  const total = spans.reduce((a, b) => a + b, 0);
  expect(plan[0]?.start).toBe(0);
  expect(plan[plan.length - 1]?.end).toBe(total);
  for (const [i, p] of plan.entries()) {
    expect(p.end - p.start, `member ${i}`).toBeGreaterThan(0);
    expect(p.end - p.start, `member ${i}`).toBeLessThanOrEqual(partBytes);
    if (i > 0) expect(p.start).toBe(plan[i - 1]!.end);
  }
}

describe('planArchiveParts', () => {
  const rows: { name: string; spans: number[]; partBytes: number; cuts: number[] }[] = [
    { name: 'everything fits in one member', spans: [1024, 2048, 1024], partBytes: 10_000, cuts: [] },
    {
      name: 'an entry that would not fit starts the next member',
      spans: [1024, 2048, 1024, 1024],
      partBytes: 3_500,
      cuts: [3072],
    },
    {
      name: 'an entry larger than a member is cut every part size, the rest shares with what follows',
      spans: [512, 10_240, 1024],
      partBytes: 4_096,
      cuts: [512, 4608, 8704],
    },
    {
      name: 'an entry exactly a member long is one member',
      spans: [4096, 4096, 1024],
      partBytes: 4_096,
      cuts: [4096, 8192],
    },
    { name: 'the end-of-archive blocks alone (an empty export)', spans: [1024], partBytes: 4_096, cuts: [] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const plan = planArchiveParts(row.spans, row.partBytes);
      expectCovering(plan, row.spans, row.partBytes);
      expect(plan.slice(1).map((p) => p.start)).toEqual(row.cuts);
    });
  }

  it('on random trees: cuts inside an entry only when it is larger than a member, and few members', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 200; round += 1) {
      const spans = Array.from({ length: 1 + Math.floor(random() * 60) }, () =>
        random() < 0.1 ? 512 * Math.ceil(random() * 400) : 512 * Math.ceil(random() * 8),
      );
      spans.push(1024);
      const partBytes = 512 + Math.floor(random() * 50_000);
      const plan = planArchiveParts(spans, partBytes);
      expectCovering(plan, spans, partBytes);
      let start = 0;
      for (const s of spans) {
        const inside = plan.filter((p) => p.start > start && p.start < start + s);
        if (s <= partBytes) expect(inside, `round ${round}: a fitting entry was cut`).toEqual([]);
        start += s;
      }
      const total = start;
      expect(plan.length).toBeLessThanOrEqual((2 * total) / partBytes + 1);
    }
  });

  it('refuses a part size that is not a positive integer', () => {
    expect(() => planArchiveParts([1024], 0)).toThrow(/partBytes must be a positive integer/);
    expect(() => planArchiveParts([1024], 1.5)).toThrow(/partBytes/);
  });
});

describe('partSizeFor', () => {
  it('keeps the asked size while the members fit in OSS parts, grows it for a larger archive', () => {
    expect(partSizeFor(1024 ** 3, 32 * 1024 ** 2)).toBe(32 * 1024 ** 2);
    const huge = 500 * 1024 ** 3;
    const size = partSizeFor(huge, 32 * 1024 ** 2);
    expect(size).toBeGreaterThan(32 * 1024 ** 2);
    expect((2 * huge) / size + 1).toBeLessThanOrEqual(MAX_UPLOAD_PARTS);
  });
});

describe('ArchiveBudget', () => {
  it('always allows the first part, then stops at the bytes or the time, whichever comes first', () => {
    let now = 1_000;
    const byBytes = new ArchiveBudget({ bytes: 100, ms: 60_000 }, () => now);
    expect(byBytes.spent()).toBe(false);
    byBytes.spend(60);
    expect(byBytes.spent()).toBe(false);
    byBytes.spend(40);
    expect(byBytes.spent()).toBe(true);

    const byTime = new ArchiveBudget({ bytes: 1e12, ms: 60_000 }, () => now);
    now += 120_000;
    expect(byTime.spent(), 'no part made yet').toBe(false);
    byTime.spend(1);
    expect(byTime.spent()).toBe(true);
  });
});
