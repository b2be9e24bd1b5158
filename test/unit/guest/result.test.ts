import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseGuestResult } from '../../../lib/guest/result.js';

const SUCCESS = [
  '[prescript] flushing tables',
  'ECSB consistency=application',
  'ECSB reason=',
  'ECSB freeze_ms=412',
  'ECSB pre_exit=0',
  'ECSB post_exit=0',
  'ECSB snapshot_group_id=ssg-bp1abc123',
  '',
].join('\n');

describe('parseGuestResult', () => {
  it('reads a complete successful run', () => {
    expect(parseGuestResult(SUCCESS)).toEqual({
      consistency: 'application',
      reason: '',
      freezeMs: 412,
      preExit: 0,
      postExit: 0,
      snapshotGroupId: 'ssg-bp1abc123',
      snapshotError: null,
      complete: true,
      missing: [],
      extra: {},
    });
  });

  it('reads a failed snapshot request, a reason and "none" values', () => {
    const r = parseGuestResult(
      [
        'ECSB consistency=filesystem',
        'ECSB reason=pre-script: /tmp/prescript.sh has mode 0777, not 0700',
        'ECSB freeze_ms=none',
        'ECSB pre_exit=none',
        'ECSB post_exit=none',
        'ECSB snapshot_error=Throttling.User: Request was denied: due to user flow control.',
      ].join('\n'),
    );

    expect(r).toMatchObject({
      consistency: 'filesystem',
      reason: 'pre-script: /tmp/prescript.sh has mode 0777, not 0700',
      freezeMs: null,
      preExit: null,
      postExit: null,
      snapshotGroupId: null,
      snapshotError: { code: 'Throttling.User', message: 'Request was denied: due to user flow control.' },
      complete: true,
      missing: [],
    });
  });

  it('reads Windows output: CRLF line ends and a byte-order mark', () => {
    const r = parseGuestResult('\uFEFF' + SUCCESS.split('\n').join('\r\n'));
    expect(r.complete).toBe(true);
    expect(r.consistency).toBe('application');
    expect(r.snapshotGroupId).toBe('ssg-bp1abc123');
  });

  it('reports what is missing when the script died early', () => {
    const r = parseGuestResult('ECSB consistency=application\nsome log\n');
    expect(r.complete).toBe(false);
    expect(r.missing).toEqual([
      'reason',
      'freeze_ms',
      'pre_exit',
      'post_exit',
      'snapshot_group_id',
      'snapshot_error',
    ]);
  });

  it('ignores an unterminated last line of truncated output', () => {
    const cut = SUCCESS.slice(0, SUCCESS.indexOf('ssg-bp1abc123') + 'ssg-bp1'.length);

    const truncated = parseGuestResult(cut, { truncated: true });
    expect(truncated.snapshotGroupId).toBeNull();
    expect(truncated.complete).toBe(false);
    expect(truncated.freezeMs).toBe(412);

    // Without the flag the same line is taken as it stands (the id still looks valid).
    expect(parseGuestResult(cut).snapshotGroupId).toBe('ssg-bp1');
  });

  it('refuses unreadable values instead of guessing', () => {
    const r = parseGuestResult(
      [
        'ECSB consistency=superb',
        'ECSB freeze_ms=-3',
        'ECSB pre_exit=zero',
        'ECSB post_exit=1e3',
        'ECSB snapshot_group_id=ssg-../../etc',
        'ECSB =orphan',
        'ECSB Bad-Key=x',
        'ECSBconsistency=application',
        ' ECSB consistency=application',
      ].join('\n'),
    );
    expect(r.consistency).toBeNull();
    expect(r.freezeMs).toBeNull();
    expect(r.preExit).toBeNull();
    expect(r.postExit).toBeNull();
    expect(r.snapshotGroupId).toBeNull();
    expect(r.complete).toBe(false);
    expect(r.missing).toEqual(expect.arrayContaining(['consistency', 'freeze_ms', 'pre_exit', 'post_exit']));
    expect(r.extra).toEqual({});
  });

  it('takes the last occurrence of a key, and keeps unknown keys aside', () => {
    const r = parseGuestResult(`ECSB consistency=crash\nECSB shadow_ids=a,b\n${SUCCESS}`);
    expect(r.consistency).toBe('application');
    expect(r.extra).toEqual({ shadow_ids: 'a,b' });
  });

  it('a snapshot error without a code separator keeps the whole text as the code', () => {
    expect(parseGuestResult('ECSB snapshot_error=Interrupted').snapshotError).toEqual({
      code: 'Interrupted',
      message: '',
    });
  });

  it('never throws, whatever the output', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.boolean(), (s, truncated) => {
        const r = parseGuestResult(s, { truncated });
        expect(typeof r.complete).toBe('boolean');
      }),
    );
  });

  it('random garbage around the result lines does not change them', () => {
    const noise = fc.array(
      fc.string({ maxLength: 60 }).filter((s) => !s.includes('\n') && !s.startsWith('ECSB ')),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(noise, noise, (before, after) => {
        const out = [...before, SUCCESS.trimEnd(), ...after].join('\n');
        const r = parseGuestResult(out);
        expect(r.complete).toBe(true);
        expect(r.snapshotGroupId).toBe('ssg-bp1abc123');
        expect(r.freezeMs).toBe(412);
      }),
    );
  });
});
