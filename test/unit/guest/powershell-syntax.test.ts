import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { renderWindowsBackupScript } from '../../../lib/guest/render.js';
import { renderWindowsExportScript } from '../../../lib/guest/render-windows-export.js';

/**
 * PowerShell cannot run here, so the Windows guest scripts, as rendered, are at least parsed by a
 * PowerShell grammar (tree-sitter's): an unbalanced block, a broken pipeline or a stray quote
 * shows as an error node with its line.
 */

let parser: Parser;

beforeAll(async () => {
  await Parser.init();
  const wasm = createRequire(import.meta.url).resolve('tree-sitter-powershell/tree-sitter-powershell.wasm');
  parser = new Parser();
  parser.setLanguage(await Language.load(wasm));
});

function syntaxErrors(script: string): string[] {
  const tree = parser.parse(script);
  if (!tree) throw new Error('the parser returned no tree');
  const out: string[] = [];
  const walk = (n: Node): void => {
    if (n.type === 'ERROR' || n.isMissing) {
      const text = script.slice(n.startIndex, Math.min(n.endIndex, n.startIndex + 60));
      out.push(`${n.isMissing ? `missing ${n.type}` : 'error'} at line ${n.startPosition.row + 1}: ${text}`);
    }
    for (const c of n.children) if (c) walk(c);
  };
  walk(tree.rootNode);
  return out;
}

const url =
  'https://bucket.oss-cn-hangzhou.aliyuncs.com/exports/e/work?Expires=1&OSSAccessKeyId=AK&Signature=a%2Bb%3D';

describe('Windows guest scripts parse as PowerShell', () => {
  it('catches a broken script (the check can fail)', () => {
    expect(syntaxErrors('function f { if ($x -eq 1 { Write-Output 1 }\n')).not.toEqual([]);
    expect(syntaxErrors("$a = 'unterminated\n")).not.toEqual([]);
  });

  it('the export script, rendered with quotes in its values', () => {
    const script = renderWindowsExportScript({
      diskSerial: "bp1'x",
      workUrl: url,
      manifestUrl: `${url}'`,
      cancelUrl: url,
      maxFiles: 10,
      maxBytes: 1e9,
      sourceDrive: 'C',
      pack: { fileBytes: 1048576, bytes: 67108864, files: 8192 },
    });
    expect(syntaxErrors(script)).toEqual([]);
  });

  it('the backup script', () => {
    const script = renderWindowsBackupScript({ snapshotUrl: url, writers: true, timeoutSeconds: 30 });
    expect(syntaxErrors(script)).toEqual([]);
  });
});
