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
    });
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
