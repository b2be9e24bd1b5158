import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEcsEmulator } from '../../local/ecs-emulator/index.js';
import { startHarness, type Harness } from './helpers.js';

/** The local cloud's way to an emulator already running in another process (ECS_ENDPOINT). */
describe('ECS emulator reached by URL', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.stop();
  });
  const keys = { regionId: 'cn-hangzhou', accessKeyId: 'k', accessKeySecret: 's' };

  it('drives the admin API over HTTP and reports the guest mode', async () => {
    const remote = await connectEcsEmulator({ ...keys, url: `${h.emu.url}/` });

    expect(remote.endpoint).toBe(h.emu.endpoint);
    expect(remote.guestMode).toEqual(h.emu.guestMode);
    expect((await remote.admin.stats()).instances).toBe((await h.emu.admin.stats()).instances);
    await remote.admin.setTmpFile({ instanceId: 'i-demoweb01', path: 'remote.txt', content: 'r' });
    expect(await remote.admin.frozen()).toEqual([]);
    await expect(
      remote.admin.setTmpFile({ instanceId: 'i-nothere', path: 'x', content: '' }),
    ).rejects.toThrow(/InvalidInstanceId.NotFound/);
    await remote.close();
    expect((await h.emu.admin.stats()).instances).toBeGreaterThan(0);
  });

  it('refuses a value that is not an http URL, and says when nothing answers', async () => {
    await expect(connectEcsEmulator({ ...keys, url: 'ftp://127.0.0.1:9090' })).rejects.toThrow(
      /^ECS_ENDPOINT: ftp:\/\/127\.0\.0\.1:9090 is not an http\(s\) URL/,
    );
    await expect(connectEcsEmulator({ ...keys, url: '127.0.0.1:9090' })).rejects.toThrow(
      /^ECS_ENDPOINT: 127\.0\.0\.1:9090 is not a URL/,
    );
    await expect(connectEcsEmulator({ ...keys, url: 'http://127.0.0.1:1' })).rejects.toThrow(
      /ECS emulator at http:\/\/127\.0\.0\.1:1 is not reachable/,
    );
  });
});
