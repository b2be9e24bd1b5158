import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectGuestMode } from '../../local/ecs-emulator/sandbox-host.js';

/** Which way Linux guest scripts run, and the reason the start banner shows. */
describe('ECS emulator: guest mode', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ecs-emu-mode-'));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('runs scripts for real where a namespace can be made: as root, or through a user namespace', () => {
    const mode = detectGuestMode(false, scratch);

    expect(mode.kind).toBe(process.geteuid?.() === 0 ? 'root' : 'user-namespace');
  });

  it('is simulated when a setting forces it, even where a namespace works', () => {
    expect(detectGuestMode(true, scratch)).toEqual({
      kind: 'simulated',
      why: 'forced by the setting ECS_EMULATOR_GUEST=simulated',
    });
  });

  it('falls back to simulated, saying why, where namespaces are refused or unshare is missing', () => {
    const refused = detectGuestMode(false, scratch, '/bin/false');
    const missing = detectGuestMode(false, scratch, path.join(scratch, 'no-unshare'));

    expect(refused.kind).toBe('simulated');
    expect(refused.why).toMatch(
      /^unshare --(mount|user --map-root-user --mount) --propagation private failed: exit 1$/,
    );
    expect(missing.kind).toBe('simulated');
    expect(missing.why).toMatch(/^unshare is not available \(.*ENOENT\)$/);
  });
});
