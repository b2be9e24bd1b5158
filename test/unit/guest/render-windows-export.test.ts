import { describe, expect, it } from 'vitest';
import { MAX_SCRIPT_BYTES } from '../../../lib/guest/render.js';
import {
  renderWindowsExportScript,
  type WindowsExportParams,
} from '../../../lib/guest/render-windows-export.js';
import { exportParameters, isWindowsExport } from '../../../local/ecs-emulator/guest-simulation-export.js';

const url = (key: string) =>
  `https://bucket.oss-cn-hangzhou.aliyuncs.com/exports/export-1/${key}?Expires=1700000000&OSSAccessKeyId=AK&Signature=${'s'.repeat(28)}%3D`;

const params: WindowsExportParams = {
  diskSerial: 'bp1abcdef',
  workUrl: url('work'),
  manifestUrl: url('manifest'),
  cancelUrl: url('cancel'),
  maxFiles: 100_000,
  maxBytes: 1e12,
  sourceDrive: 'c',
  pack: { fileBytes: 1024 * 1024, bytes: 64 * 1024 * 1024, files: 8192 },
};

describe('renderWindowsExportScript', () => {
  it('sets the parameter block the emulator reads back, value for value', () => {
    const script = renderWindowsExportScript(params);
    expect(script.startsWith('#--- ecsb parameters ---\n$DiskSerial = ')).toBe(true);
    expect(isWindowsExport(script)).toBe(true);
    expect(exportParameters(script)).toEqual({
      DiskSerial: 'bp1abcdef',
      WorkUrl: params.workUrl,
      ManifestUrl: params.manifestUrl,
      CancelUrl: params.cancelUrl,
      MaxFiles: '100000',
      MaxBytes: '1000000000000',
      SourceDrive: 'C',
      PackFileBytes: '1048576',
      PackBytes: '67108864',
      PackFiles: '8192',
    });
  });

  it('without pack sizes, packs nothing: every size is 0, so no file is below the pack file size', () => {
    const { pack: _, ...plain } = params;
    const p = exportParameters(renderWindowsExportScript(plain));
    expect([p['PackFileBytes'], p['PackBytes'], p['PackFiles']]).toEqual(['0', '0', '0']);
  });

  it('packs small files the way the job reads them: K URLs, one streamed PUT of a known length, p<n>@<offset>', () => {
    const script = renderWindowsExportScript(params);
    for (const part of [
      // The pack URLs of the work list, and a file joins a pack only below the size and while one is left.
      "$_.StartsWith('K ')",
      '$size -lt $PackFileBytes -and $npacks -lt $packUrls.Count',
      '$packSize + $size -gt $PackBytes -or $pack.Count -ge $PackFiles',
      // One request per pack, its length the sum of the sizes, streamed (not buffered, not chunked).
      '$req = [Net.HttpWebRequest]::Create($packUrls[$npacks])',
      '$req.ContentLength = $packSize',
      '$req.AllowWriteStreamBuffering = $false',
      '$req.SendChunked = $false',
      // Hashed while streaming, and the manifest's pack place.
      '$sha = New-Object Security.Cryptography.SHA256CryptoServiceProvider',
      '$sha.Initialize()',
      '$sha.TransformBlock($buf, 0, $n, $null, 0)',
      '$out.Write($buf, 0, $n)',
      '"`tp" + $npacks + \'@\' + $offset',
      // The cancel marker before every pack, and the last pack sent before the manifest.
      "if (Test-Canceled $true) { Stop-Export 'canceled' 7 }",
    ]) {
      expect([part, script.includes(part)]).toEqual([part, true]);
    }
    const body = script.slice(script.indexOf('#--- end ecsb parameters ---'));
    const sendPack = body.indexOf('\nfunction Send-Pack {');
    expect(body.slice(sendPack, body.indexOf('\n}\n', sendPack))).toMatch(
      /^\nfunction Send-Pack \{\nif \(\$pack\.Count -eq 0\) \{ return \}\nif \(Test-Canceled \$true\)/,
    );
    const last = body.lastIndexOf('\nSend-Pack\n');
    expect(last).toBeGreaterThan(0);
    expect(body.indexOf('Send-File $ManifestUrl')).toBeGreaterThan(last);
  });

  it('fits the Cloud Assistant limit with three URLs carrying an STS token', () => {
    const sts = (key: string) => `${url(key)}&security-token=${'CAIS%2Bx'.repeat(150)}`;
    const script = renderWindowsExportScript({
      ...params,
      workUrl: sts('work'),
      manifestUrl: sts('manifest'),
      cancelUrl: sts('cancel'),
    });
    expect(Buffer.byteLength(script)).toBeLessThanOrEqual(MAX_SCRIPT_BYTES);
    // Indentation is dropped after the block; the lines stay whole.
    expect(script).toContain('\n$req.SendChunked = $false\n');
  });

  it('quotes a value with single quotes so it stays one literal', () => {
    const script = renderWindowsExportScript({ ...params, workUrl: "https://x/a'b\u2019c" });
    expect(script).toContain("$WorkUrl = 'https://x/a''b\u2019\u2019c'");
    expect(exportParameters(script)['WorkUrl']).toBe("https://x/a'b\u2019\u2019c");
  });

  it('drops a source drive that is not one letter', () => {
    expect(
      exportParameters(renderWindowsExportScript({ ...params, sourceDrive: "C'; rm" }))['SourceDrive'],
    ).toBe('');
  });

  it('drops comment lines after the block and stays within the Cloud Assistant limit', () => {
    const script = renderWindowsExportScript(params);
    const afterBlock = script.slice(script.indexOf('#--- end ecsb parameters ---'));
    expect(afterBlock.split('\n').filter((l) => /^\s*#/.test(l))).toEqual(['#--- end ecsb parameters ---']);
    expect(Buffer.byteLength(script)).toBeLessThan(MAX_SCRIPT_BYTES);
    // The parts that make it an export: read-only online, hashing, uploads, cancel, offline, result lines.
    for (const part of [
      'Set-Disk -Number $diskNumber -IsReadOnly $true',
      'Set-Disk -Number $diskNumber -IsOffline $false',
      'Add-PartitionAccessPath',
      'Get-FileHash',
      "$req.Method = 'PUT'",
      'Test-Canceled',
      'Set-Disk -Number $diskNumber -IsOffline $true',
      'ECSB files=',
      'ECSB export_error=',
    ]) {
      expect([part, script.includes(part)]).toEqual([part, true]);
    }
  });
});
