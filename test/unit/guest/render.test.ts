import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/domain/errors.js';
import {
  bashQuote,
  linuxCommandTimeoutSeconds,
  MAX_SCRIPT_BYTES,
  powershellQuote,
  renderGuestCommand,
  renderLinuxBackupScript,
  renderWindowsBackupScript,
  type LinuxBackupParams,
} from '../../../lib/guest/render.js';

const URL_OK =
  'http://127.0.0.1:9090/?AccessKeyId=ak&Action=CreateSnapshotGroup&ClientToken=job-1&DiskId.1=d-abc&Signature=x%2By%3D';

const LINUX: LinuxBackupParams = {
  snapshotUrl: URL_OK,
  applicationConsistent: true,
  fsFreeze: true,
  timeoutSeconds: 30,
  onPreScriptFailure: 'continue',
};

/** What bash makes of a shell fragment's variable: the proof that quoting holds. */
function bashValue(assignment: string, variable: string): string {
  return execFileSync('bash', ['-c', `${assignment}\nprintf %s "$${variable}"`], { encoding: 'utf8' });
}

function paramLine(script: string, name: string): string {
  const line = script.split('\n').find((l) => l.startsWith(`${name}=`));
  if (line === undefined) throw new Error(`no ${name} line`);
  return line;
}

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

/** PowerShell single-quoted literal: any of the four single quotes, doubled, stands for itself. */
function unquotePowershell(literal: string): string {
  const m = /^'((?:[^'\u2018\u2019\u201a\u201b]|(['\u2018\u2019\u201a\u201b])\2)*)'$/.exec(literal);
  if (!m) throw new Error(`not a single PowerShell literal: ${literal}`);
  return m[1]!.replace(/(['\u2018\u2019\u201a\u201b])\1/g, '$1');
}

describe('bashQuote', () => {
  it('bash reads back exactly the value, whatever it holds', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom("'", '"', '\\', '$', '`', '\n', ' ', '!', '*', '\t', '#', ';', '(', '{', '~'),
            fc.string({ unit: 'grapheme', maxLength: 3 }),
          ),
          { maxLength: 20 },
        ),
        (parts) => {
          const value = parts.join('');
          expect(bashValue(`v=${bashQuote(value)}`, 'v')).toBe(value);
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each([`'; rm -rf / #`, '$(id)', '`id`', '${HOME}', "a'b'c", '\\', '\n echo x \n', '!!', '*'])(
    'keeps %j literal',
    (value) => {
      expect(bashValue(`v=${bashQuote(value)}`, 'v')).toBe(value);
    },
  );
});

describe('renderLinuxBackupScript', () => {
  it('sets every parameter, is valid bash and fits the Cloud Assistant limit', () => {
    const script = renderLinuxBackupScript({
      ...LINUX,
      onPreScriptFailure: 'fail',
      preScriptTimeoutSeconds: 12,
      postScriptTimeoutSeconds: 7,
    });

    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(Buffer.byteLength(script)).toBeLessThan(MAX_SCRIPT_BYTES);
    execFileSync('bash', ['-n'], { input: script, stdio: ['pipe', 'pipe', 'pipe'] });
    expect(bashValue(paramLine(script, 'ECSB_SNAPSHOT_URL'), 'ECSB_SNAPSHOT_URL')).toBe(URL_OK);
    expect(paramLine(script, 'ECSB_APP_CONSISTENT')).toBe('ECSB_APP_CONSISTENT=1');
    expect(paramLine(script, 'ECSB_FS_FREEZE')).toBe('ECSB_FS_FREEZE=1');
    expect(paramLine(script, 'ECSB_FREEZE_TIMEOUT')).toBe('ECSB_FREEZE_TIMEOUT=30');
    expect(paramLine(script, 'ECSB_PRE_TIMEOUT')).toBe('ECSB_PRE_TIMEOUT=12');
    expect(paramLine(script, 'ECSB_POST_TIMEOUT')).toBe('ECSB_POST_TIMEOUT=7');
    expect(paramLine(script, 'ECSB_REQUEST_TIMEOUT')).toBe('ECSB_REQUEST_TIMEOUT=10');
    expect(paramLine(script, 'ECSB_ON_PRE_FAILURE')).toBe('ECSB_ON_PRE_FAILURE=fail');
    // Comments (and the template's markers) are dropped; the parameters appear once.
    expect(
      script
        .split('\n')
        .slice(1)
        .some((l) => /^\s*#/.test(l)),
    ).toBe(false);
    expect(script.match(/^ECSB_SNAPSHOT_URL=/gm)).toHaveLength(1);
  });

  it('defaults the hook timeouts to the freeze timeout and the request timeout to half of it, at most 10 s', () => {
    const script = renderLinuxBackupScript({ ...LINUX, applicationConsistent: false, timeoutSeconds: 4 });

    expect(paramLine(script, 'ECSB_APP_CONSISTENT')).toBe('ECSB_APP_CONSISTENT=0');
    expect(paramLine(script, 'ECSB_PRE_TIMEOUT')).toBe('ECSB_PRE_TIMEOUT=4');
    expect(paramLine(script, 'ECSB_POST_TIMEOUT')).toBe('ECSB_POST_TIMEOUT=4');
    expect(paramLine(script, 'ECSB_REQUEST_TIMEOUT')).toBe('ECSB_REQUEST_TIMEOUT=2');
    expect(paramLine(script, 'ECSB_ON_PRE_FAILURE')).toBe('ECSB_ON_PRE_FAILURE=continue');
  });

  it('puts hostile URL characters into the script literally', () => {
    const hostile = "https://h/?x='$(reboot)'&y=`halt`;z=${PATH}|w&q=%27";
    const script = renderLinuxBackupScript({ ...LINUX, snapshotUrl: hostile });

    expect(bashValue(paramLine(script, 'ECSB_SNAPSHOT_URL'), 'ECSB_SNAPSHOT_URL')).toBe(hostile);
  });

  it('any URL made of printable non-space characters survives rendering', () => {
    const urlChar = fc.constantFrom(..."abcXYZ019-._~:/?#[]@!$&'()*+,;=%`^{}|<>".split(''));
    fc.assert(
      fc.property(fc.array(urlChar, { maxLength: 30 }), (chars) => {
        const url = `http://host/${chars.join('')}`;
        const script = renderLinuxBackupScript({ ...LINUX, snapshotUrl: url });
        expect(bashValue(paramLine(script, 'ECSB_SNAPSHOT_URL'), 'ECSB_SNAPSHOT_URL')).toBe(url);
      }),
      { numRuns: 40 },
    );
  });

  it.each([
    ['a newline', 'http://h/?a=1\nrm -rf /'],
    ['a space', 'http://h/?a=1 b'],
    ['a double quote', 'http://h/?a="b"'],
    ['a backslash', 'http://h/?a=\\b'],
    ['a NUL', 'http://h/?a=\u0000'],
    ['another scheme', 'file:///etc/passwd'],
    ['no host', 'http:///x'],
    ['nothing', ''],
  ])('refuses a URL with %s', (_what, snapshotUrl) => {
    const issues = issuesOf(() => renderLinuxBackupScript({ ...LINUX, snapshotUrl }));
    expect(issues.map((i) => i.path)).toEqual(['snapshotUrl']);
  });

  it('names every bad parameter at once', () => {
    const issues = issuesOf(() =>
      renderLinuxBackupScript({
        snapshotUrl: URL_OK,
        applicationConsistent: 'yes' as unknown as boolean,
        fsFreeze: true,
        timeoutSeconds: 0,
        preScriptTimeoutSeconds: 1.5,
        onPreScriptFailure: 'ignore' as 'fail',
      }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual([
      'applicationConsistent',
      'onPreScriptFailure',
      'preScriptTimeoutSeconds',
      'timeoutSeconds',
    ]);
  });

  it('refuses a timeout above 1800 s', () => {
    const issues = issuesOf(() => renderLinuxBackupScript({ ...LINUX, timeoutSeconds: 1801 }));
    expect(issues).toEqual([{ path: 'timeoutSeconds', message: 'must be between 1 and 1800' }]);
  });

  it('gives Cloud Assistant a command timeout longer than every phase of the script together', () => {
    expect(linuxCommandTimeoutSeconds(LINUX)).toBe(30 + 5 + 30 + 30 + 5 + 30);
    expect(
      linuxCommandTimeoutSeconds({ ...LINUX, preScriptTimeoutSeconds: 100, postScriptTimeoutSeconds: 1 }),
    ).toBe(100 + 5 + 30 + 1 + 5 + 30);
  });
});

describe('powershellQuote', () => {
  it('every single-quote character, typographic ones included, is doubled and reads back', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 30 }),
        fc.constantFrom("'", '\u2018', '\u2019', '\u201a', '\u201b'),
        (s, q) => {
          const value = `${s}${q}${s}`;
          expect(unquotePowershell(powershellQuote(value))).toBe(value);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('renderWindowsBackupScript', () => {
  it('starts with exactly the parameter block the emulator reads', () => {
    const script = renderWindowsBackupScript({ snapshotUrl: URL_OK, writers: true, timeoutSeconds: 30 });
    const [l1, l2, l3] = script.split('\n');

    expect(l1).toBe(`$SnapshotUrl = '${URL_OK}'`);
    expect(l2).toBe('$Writers = $true');
    expect(l3).toBe('$TimeoutSeconds = 30');
    expect(Buffer.byteLength(script)).toBeLessThan(MAX_SCRIPT_BYTES);
    expect(script).toContain('ECSB consistency=');
    expect(script).not.toContain('#--- ecsb parameters ---');
  });

  it('writes writers off as $false and quotes a hostile URL for PowerShell', () => {
    const hostile = "http://h/?a='+$(Stop-Computer)+'&b=\u2019x";
    const script = renderWindowsBackupScript({ snapshotUrl: hostile, writers: false, timeoutSeconds: 5 });
    const [l1, l2, l3] = script.split('\n');

    expect(unquotePowershell(l1!.slice('$SnapshotUrl = '.length))).toBe(hostile);
    expect(l2).toBe('$Writers = $false');
    expect(l3).toBe('$TimeoutSeconds = 5');
  });

  it('refuses bad parameters with their names', () => {
    const issues = issuesOf(() =>
      renderWindowsBackupScript({
        snapshotUrl: 'ftp://x',
        writers: 1 as unknown as boolean,
        timeoutSeconds: 2.5,
      }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['snapshotUrl', 'timeoutSeconds', 'writers']);
  });
});

describe('renderGuestCommand', () => {
  const consistency = {
    applicationConsistent: true,
    fsFreeze: true,
    windowsWriters: false,
    timeoutSeconds: 30,
    onPreScriptFailure: 'fail' as const,
    onAgentUnavailable: 'continue' as const,
  };

  it('gives Linux the bash script with the plan options and a timeout covering every phase', () => {
    const cmd = renderGuestCommand('linux', URL_OK, consistency);
    expect(cmd.type).toBe('RunShellScript');
    expect(cmd.timeoutSeconds).toBe(130);
    expect(paramLine(cmd.content, 'ECSB_ON_PRE_FAILURE')).toBe('ECSB_ON_PRE_FAILURE=fail');
    expect(paramLine(cmd.content, 'ECSB_APP_CONSISTENT')).toBe('ECSB_APP_CONSISTENT=1');
  });

  it('gives Windows the PowerShell script with the writers option', () => {
    const cmd = renderGuestCommand('windows', URL_OK, consistency);
    expect(cmd.type).toBe('RunPowerShellScript');
    expect(cmd.content.split('\n')[1]).toBe('$Writers = $false');
    expect(cmd.timeoutSeconds).toBeGreaterThan(consistency.timeoutSeconds);
  });
});

describe('hook timeouts', () => {
  it('default to the freeze timeout but at most 600 s, so the pre-signed request is still fresh after the pre-script', () => {
    const script = renderLinuxBackupScript({ ...LINUX, timeoutSeconds: 1800 });
    expect(paramLine(script, 'ECSB_PRE_TIMEOUT')).toBe('ECSB_PRE_TIMEOUT=600');
    expect(paramLine(script, 'ECSB_POST_TIMEOUT')).toBe('ECSB_POST_TIMEOUT=600');
    expect(paramLine(script, 'ECSB_FREEZE_TIMEOUT')).toBe('ECSB_FREEZE_TIMEOUT=1800');
    expect(linuxCommandTimeoutSeconds({ ...LINUX, timeoutSeconds: 1800 })).toBe(
      600 + 5 + 1800 + 600 + 5 + 30,
    );
  });
});
