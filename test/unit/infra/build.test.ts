import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Linter } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctions, FUNCTIONS, OPTIONAL_EXTERNALS, type BuiltFunction } from '../../../infra/build.js';
import { TABLESTORE_UNDECLARED } from '../../../infra/build-patches.js';
import { ECS_ACTIONS, MNS_ACTIONS } from '../../../infra/ram-policy.js';

const root = path.resolve(import.meta.dirname, '../../..');
const tablestoreLib = path.join(root, 'node_modules', 'tablestore', 'lib');
/** Files only a browser build of the package loads. */
const BROWSER_ONLY = new Set(['lib/util-browser.js', 'lib/http/xhr.js']);
/**
 * What a CommonJS file in Node may name without declaring it; `window` and `navigator` are read
 * behind `typeof` checks (browser detection), which is safe in strict mode too.
 */
const NODE_GLOBALS = Object.fromEntries(
  [
    ...Object.getOwnPropertyNames(globalThis),
    ...['require', 'module', 'exports', '__dirname', '__filename', 'window', 'navigator'],
  ].map((name) => [name, 'readonly' as const]),
);

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? jsFiles(path.join(dir, e.name))
      : e.name.endsWith('.js')
        ? [path.join(dir, e.name)]
        : [],
  );
}

describe('the tablestore package under strict mode', () => {
  it('assigns no undeclared name beyond the ones the build declares', () => {
    const linter = new Linter({ configType: 'flat' });
    const found: Record<string, string[]> = {};
    for (const file of jsFiles(tablestoreLib)) {
      const relative = path.relative(path.dirname(tablestoreLib), file).split(path.sep).join('/');
      if (BROWSER_ONLY.has(relative)) continue;
      const messages = linter.verify(readFileSync(file, 'utf8'), [
        {
          languageOptions: { sourceType: 'commonjs', ecmaVersion: 'latest', globals: NODE_GLOBALS },
          rules: { 'no-undef': 'error' },
        },
      ]);
      for (const m of messages) {
        const name = /'([^']+)' is not defined/.exec(m.message)?.[1];
        if (name !== undefined) found[relative] = [...new Set([...(found[relative] ?? []), name])].sort();
      }
    }
    const declared = Object.fromEntries(
      Object.entries(TABLESTORE_UNDECLARED).map(([file, names]) => [file, [...names].sort()]),
    );
    expect(found).toEqual(declared);
  });
});

describe('npm run build', () => {
  let out: string;
  let built: BuiltFunction[];
  beforeAll(async () => {
    out = mkdtempSync(path.join(os.tmpdir(), 'ecs-backup-build-'));
    built = await buildFunctions(out);
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('makes one ES-module bundle per function, with its source map and the guest scripts beside it', () => {
    expect(built.map((b) => b.name)).toEqual([...FUNCTIONS]);
    for (const b of built) {
      expect(readdirSync(b.dir).sort()).toEqual(
        [
          'index.mjs',
          'index.mjs.map',
          // What the function imports only on demand (ECS, MNS, KMS and OSS clients, the Tablestore SDK).
          'chunks',
          'linux-backup.sh',
          'windows-backup.ps1',
          'linux-export.sh',
          'windows-export.ps1',
          'linux-verify.sh',
          // The API function serves the operator console from beside its bundle.
          ...(b.name === 'api' ? ['console'] : []),
        ].sort(),
      );
      const map = JSON.parse(readFileSync(`${b.bundle}.map`, 'utf8')) as { sources: string[] };
      expect(map.sources.some((s) => s.endsWith(`functions/${b.name}/index.ts`))).toBe(true);
    }
  });

  it('keeps each bundle at or under 400 KB gzipped, without SQLite, the embedded queue or native code', () => {
    for (const b of built) {
      expect(b.gzipBytes, b.name).toBeLessThanOrEqual(400 * 1024);
      // The export's OSS SDK stays out of the cold start, in a chunk of its own.
      expect(b.lazyGzipBytes, b.name).toBeGreaterThan(0);
      expect(
        b.inputs.filter((i) => /sqlite|embedded-queue|\.node$|^local\//.test(i)),
        b.name,
      ).toEqual([]);
      for (const file of b.files)
        expect(readFileSync(file, 'utf8')).not.toMatch(/better-sqlite3|better_sqlite3/);
    }
    expect(existsSync(path.join(out, 'manifest.json'))).toBe(true);
  });

  it('leaves the cloud SDKs out of the entry module: each is read on the first call that needs it', () => {
    for (const b of built) {
      expect(b.entryInputs.length, b.name).toBeGreaterThan(0);
      const sdks = b.entryInputs.filter((i) =>
        /node_modules\/(tablestore|@alicloud\/(mns|openapi-client|openapi-util|credentials)|ali-oss)\//.test(
          i,
        ),
      );
      expect(sdks, b.name).toEqual([]);
      // ...while they are all still in the package.
      expect(
        b.inputs.some((i) => i.includes('node_modules/@alicloud/openapi-client/')),
        b.name,
      ).toBe(true);
    }
  });

  it('imports nothing but Node built-ins at run time (no node_modules to ship)', () => {
    const builtins = new Set(builtinModules);
    for (const b of built) {
      expect(b.externals.length, b.name).toBeGreaterThan(0);
      for (const spec of b.externals.filter((e) => !OPTIONAL_EXTERNALS.includes(e))) {
        expect(builtins.has(spec.replace(/^node:/, '')), `${b.name}: ${spec}`).toBe(true);
      }
    }
  });

  it('grants the role no ECS or MNS action that no bundle calls', () => {
    const text = built.flatMap((b) => b.files.map((f) => readFileSync(f, 'utf8'))).join('\n');
    const unused = [...ECS_ACTIONS, ...MNS_ACTIONS].filter((a) => !text.includes(`"${a}"`));
    expect(unused).toEqual([]);
  });

  it('keeps the cold start small: the API imports no route but health, and no function imports the OSS SDK', () => {
    for (const b of built) {
      expect(b.importedInputs, b.name).toEqual(expect.arrayContaining(b.entryInputs));
      const oss = b.importedInputs.filter((i) => /node_modules\/ali-oss\/|lib\/adapters\/oss\//.test(i));
      expect(oss, b.name).toEqual([]);
    }
    const api = built.find((b) => b.name === 'api')!;
    // Each resource's routes, schemas and use cases load on its first request (lib/api/routes/lazy.ts).
    const eager = api.importedInputs.filter(
      (i) =>
        /^lib\/(api\/(routes|schemas)\/|api\/openapi|usecases\/)/.test(i) &&
        !['lib/api/routes/lazy.ts', 'lib/api/schemas/common.ts'].includes(i),
    );
    expect(eager).toEqual([]);
    // Today about 240 KB, most of it zod (settings and request validation need it at once).
    expect(api.importedBytes).toBeLessThanOrEqual(280 * 1024);
    expect(api.inputs).toEqual(expect.arrayContaining(['lib/api/routes/plans.ts', 'lib/api/openapi.ts']));
  });
});
