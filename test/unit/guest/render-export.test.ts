import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MAX_SCRIPT_BYTES } from '../../../lib/guest/render.js';
import { renderLinuxExportScript } from '../../../lib/guest/render-export.js';

/** A signed OSS URL with an STS token, about the length ECS's RAM role gives. */
const signed = (name: string, tokenLength: number) =>
  `https://bucket.oss-cn-hangzhou-internal.aliyuncs.com/exports/j-1/${name}?OSSAccessKeyId=STS.x&Expires=1&Signature=abc%2B&security-token=${'t'.repeat(tokenLength)}`;

const params = (tokenLength: number) => ({
  devices: ['/dev/disk/by-id/virtio-abc', '/dev/vdb'],
  workUrl: signed('work', tokenLength),
  manifestUrl: signed('manifest', tokenLength),
  cancelUrl: signed('cancel', tokenLength),
  maxFiles: 100_000,
  maxBytes: 1e12,
  pack: { fileBytes: 1 << 20, bytes: 64 << 20, files: 8192 },
});

describe('the Linux export script as sent', () => {
  it('fits Cloud Assistant with three URLs carrying STS tokens, comments and indentation dropped', () => {
    const script = renderLinuxExportScript(params(1200));
    expect(Buffer.byteLength(script)).toBeLessThanOrEqual(MAX_SCRIPT_BYTES);
    const lines = script.split('\n');
    expect(lines[0]).toBe('#!/bin/bash');
    expect(lines.slice(1).filter((l) => l.startsWith('#') || l.startsWith(' ') || l === '')).toEqual(['']);
    // Still valid bash, and the awk programs still there.
    execFileSync('bash', ['-n'], { input: script });
    expect(script).toContain(`WORK_URL='${signed('work', 1200)}'`);
    expect(script).toMatch(/^function closepack\(\) \{$/m);
  });

  it('refuses to render a script Cloud Assistant would not take', () => {
    expect(() => renderLinuxExportScript(params(6000))).toThrow(
      `the rendered Linux export script exceeds ${MAX_SCRIPT_BYTES} bytes`,
    );
  });
});
