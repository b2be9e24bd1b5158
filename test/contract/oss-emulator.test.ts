import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOssEmulator, type OssEmulator } from '../../local/oss-emulator/index.js';

/** The emulator's wire protocol, spoken by the official SDK itself (no adapter in between). */
describe('OSS emulator, through ali-oss', () => {
  let emu: OssEmulator;
  let sdk: OSS;
  const client = (secret: string) =>
    new OSS({
      bucket: emu.bucket,
      endpoint: emu.endpoint,
      cname: true,
      secure: false,
      accessKeyId: emu.accessKeyId,
      accessKeySecret: secret,
    });

  beforeAll(async () => {
    emu = await startOssEmulator();
    sdk = client(emu.accessKeySecret);
  });
  afterAll(() => emu.close());

  it('lists one level with a delimiter, common prefixes counted once, paged by marker', async () => {
    for (const k of ['t/a.txt', 't/d1/x', 't/d1/y', 't/d2/z', 't/e.txt', 'u/other'])
      await sdk.put(k, Buffer.from(k));
    const all = await sdk.list({ prefix: 't/', delimiter: '/', 'max-keys': 100 }, {});
    expect(all.objects.map((o) => o.name)).toEqual(['t/a.txt', 't/e.txt']);
    expect(all.prefixes).toEqual(['t/d1/', 't/d2/']);

    const first = await sdk.list({ prefix: 't/', delimiter: '/', 'max-keys': 2 }, {});
    expect([first.objects.map((o) => o.name), first.prefixes, first.isTruncated]).toEqual([
      ['t/a.txt'],
      ['t/d1/'],
      true,
    ]);
    const second = await sdk.list(
      { prefix: 't/', delimiter: '/', 'max-keys': 2, marker: first.nextMarker },
      {},
    );
    expect([second.objects.map((o) => o.name), second.prefixes, second.isTruncated]).toEqual([
      ['t/e.txt'],
      ['t/d2/'],
      false,
    ]);
  });

  it('assembles a multipart upload from its parts and names it by its parts', async () => {
    const body = Buffer.alloc(350 * 1024, 7);
    await sdk.multipartUpload('m/big.bin', body, { partSize: 100 * 1024 });
    const stored = emu.state.objects.get('m/big.bin')!;
    expect(stored.body.equals(body)).toBe(true);
    expect(stored.etag).toMatch(/-4"$/);
    expect(emu.state.uploads.size).toBe(0);
  });

  it('refuses a request signed with the wrong secret and a tampered signed URL', async () => {
    await expect(client('not-the-secret').put('s/x', Buffer.from('x'))).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
      status: 403,
    });
    expect(emu.state.objects.has('s/x')).toBe(false);
    await sdk.put('s/y', Buffer.from('y'));
    const url = new URL(sdk.signatureUrl('s/y', { expires: 60 }));
    url.searchParams.set('Expires', String(Number(url.searchParams.get('Expires')) + 1000));
    expect((await fetch(url)).status).toBe(403);
    expect((await fetch(sdk.signatureUrl('s/y', { expires: 60 }))).status).toBe(200);
  });

  it('holds matching uploads until released', async () => {
    const hold = emu.holdUploads((k) => k.startsWith('h/'));
    const put = sdk.put('h/1', Buffer.from('held'));
    await expect.poll(() => hold.held()).toBe(1);
    expect(emu.state.objects.has('h/1')).toBe(false);
    hold.release();
    await put;
    expect(emu.state.objects.get('h/1')!.body.toString()).toBe('held');
  });
});
