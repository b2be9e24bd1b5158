import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  classifyImport,
  findLayerViolations,
  findViolations,
  USE_CASE_RULE,
} from '../../tools/check-domain-deps.js';

const file = (path: string, text: string) => ({ path, text });

describe('classifyImport', () => {
  it.each([
    { name: 'sibling domain file', spec: './model.js', allowed: true },
    { name: 'nested domain file', spec: './rules/week.js', allowed: true },
    { name: 'zod', spec: 'zod', allowed: true },
    { name: 'zod subpath', spec: 'zod/v4', allowed: true },
    { name: 'pure built-in util', spec: 'node:util', allowed: true },
    { name: 'pure built-in path without prefix', spec: 'path', allowed: true },
  ])('allows $name', ({ spec }) => {
    expect(classifyImport('lib/domain/plan.ts', spec)).toBeNull();
  });

  it.each([
    { name: 'fs', spec: 'node:fs', reason: 'Node built-in "fs" does I/O' },
    { name: 'fs/promises without prefix', spec: 'fs/promises', reason: 'Node built-in "fs"' },
    { name: 'net', spec: 'net', reason: 'Node built-in "net"' },
    { name: 'http', spec: 'node:http', reason: 'Node built-in "http"' },
    { name: 'https', spec: 'https', reason: 'Node built-in "https"' },
    { name: 'child_process', spec: 'child_process', reason: 'Node built-in "child_process"' },
    { name: 'dgram', spec: 'dgram', reason: 'Node built-in "dgram"' },
    { name: 'dns', spec: 'node:dns', reason: 'Node built-in "dns"' },
    { name: 'tls', spec: 'tls', reason: 'Node built-in "tls"' },
    { name: 'os', spec: 'os', reason: 'Node built-in "os"' },
    { name: 'worker_threads', spec: 'worker_threads', reason: 'Node built-in "worker_threads"' },
    { name: 'cluster', spec: 'cluster', reason: 'Node built-in "cluster"' },
    { name: 'process', spec: 'node:process', reason: 'Node built-in "process"' },
    { name: 'crypto (randomness)', spec: 'node:crypto', reason: 'Node built-in "crypto"' },
    { name: 'an unknown node: module', spec: 'node:sqlite', reason: 'Node built-in "sqlite"' },
    {
      name: 'an SDK',
      spec: '@alicloud/ecs20140526',
      reason: 'npm package "@alicloud/ecs20140526" (only zod is allowed)',
    },
    { name: 'another package', spec: 'lodash/fp', reason: 'npm package "lodash"' },
    {
      name: 'a port',
      spec: '../ports/clock.js',
      reason: 'path outside lib/domain/ (resolves to lib/ports/clock.js)',
    },
    {
      name: 'an adapter two levels up',
      spec: '../../lib/adapters/system.js',
      reason: 'path outside lib/domain/',
    },
    {
      name: 'a path that leaves and comes back',
      spec: '../domainx/a.js',
      reason: 'path outside lib/domain/',
    },
    { name: 'an absolute path', spec: '/etc/passwd', reason: 'path outside lib/domain/' },
    { name: 'a package import alias', spec: '#config', reason: 'path outside lib/domain/' },
    { name: 'a URL', spec: 'https://example.com/x.js', reason: 'path outside lib/domain/' },
  ])('refuses $name', ({ spec, reason }) => {
    expect(classifyImport('lib/domain/plan.ts', spec)).toContain(reason);
  });
});

describe('findViolations', () => {
  it('passes a clean domain', () => {
    const files = [
      file(
        'lib/domain/a.ts',
        "import { z } from 'zod';\nimport type { Plan } from './model.js';\nexport * from './b.js';\nconst d = new Date(0);\n",
      ),
      file(
        'lib/domain/b.ts',
        "// import fs from 'node:fs' in a comment is fine\nconst s = \"import('node:net')\";\nexport const obj = { process: 1, fetch: 2 };\nexport const p = obj.process;\n",
      ),
    ];
    expect(findViolations(files)).toEqual([]);
  });

  it('lists file, line, import and reason for every kind of import', () => {
    const text = [
      "import { readFile } from 'node:fs/promises';", // 1
      "import type { Clock } from '../ports/clock.js';", // 2
      "export { x } from 'lodash';", // 3
      "import os = require('os');", // 4
      "const m = await import('node:http');", // 5
      "type T = import('@alicloud/mns').Client;", // 6
      'const n = await import(name);', // 7
      "import './side-effect.js';", // 8
    ].join('\n');
    const got = findViolations([file('lib/domain/bad.ts', text)]);
    expect(got.map((v) => [v.line, v.target])).toEqual([
      [1, 'node:fs/promises'],
      [2, '../ports/clock.js'],
      [3, 'lodash'],
      [4, 'os'],
      [5, 'node:http'],
      [6, '@alicloud/mns'],
      [7, '<computed>'],
    ]);
    expect(got.every((v) => v.file === 'lib/domain/bad.ts' && v.reason.length > 0)).toBe(true);
    expect(got[6]?.reason).toBe('import with a computed specifier');
  });

  it('finds the globals that do I/O or read time and randomness without an import', () => {
    const text = [
      'const env = process.env.X;',
      "const r = await fetch('http://x');",
      "const fs = require('fs');",
      'const t = Date.now();',
      'const u = new Date();',
      'const v = Math.random();',
      'const w = performance.now();',
      "const e = process['env'];",
    ].join('\n');
    const got = findViolations([file('lib/domain/g.ts', text)]);
    expect(got.map((v) => [v.line, v.target])).toEqual([
      [1, 'process'],
      [2, 'fetch'],
      [3, 'require'],
      [4, 'Date.now()'],
      [5, 'new Date()'],
      [6, 'Math.random()'],
      [7, 'performance'],
      [8, 'process'],
    ]);
  });

  it('sorts by file, then line', () => {
    const got = findViolations([
      file('lib/domain/z.ts', "import 'os';"),
      file('lib/domain/a.ts', "\n\nimport 'fs';\nimport 'net';"),
    ]);
    expect(got.map((v) => `${v.file}:${v.line}`)).toEqual([
      'lib/domain/a.ts:3',
      'lib/domain/a.ts:4',
      'lib/domain/z.ts:1',
    ]);
  });

  it('honours another domain root', () => {
    expect(findViolations([file('src/core/a.ts', "import '../core/b.js';")], 'src/core')).toEqual([]);
    expect(findViolations([file('src/core/a.ts', "import '../lib/b.js';")], 'src/core')).toHaveLength(1);
  });
});

// Each test starts node with tsx, which compiles the checker first: seconds on a busy machine, not ms.
describe('check-domain-deps command', { timeout: 120_000 }, () => {
  const run = (dir?: string) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', 'test/tools/check-domain-deps.ts', ...(dir === undefined ? [] : [dir])],
      {
        encoding: 'utf8',
      },
    );

  it('passes on the repository as it is (domain and layers)', () => {
    const result = run();
    expect(result.stdout).toMatch(/no forbidden dependency/);
    expect(result.status).toBe(0);
  });

  it('exits 1 and lists file, line and import for a bad tree', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'domain-deps-'));
    try {
      await mkdir(path.join(dir, 'nested'));
      await writeFile(path.join(dir, 'ok.ts'), "import { z } from 'zod';\nexport const s = z.string();\n");
      await writeFile(path.join(dir, 'nested', 'bad.ts'), "\nimport { readFileSync } from 'node:fs';\n");
      const result = run(dir);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/nested\/bad\.ts:2 {2}node:fs {2}Node built-in "fs" does I\/O/);
      expect(result.stderr).toMatch(/1 forbidden dependency under/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('layer rules', () => {
  it('passes imports that stay inside what each layer may use', () => {
    expect(
      findLayerViolations([
        file('lib/adapters/mns/index.ts', "import { QueueError } from '../../ports/queue.js';"),
        file('lib/adapters/sqlite/store.ts', "import { TABLES } from '../../schema/tables.js';"),
        file('functions/worker/index.ts', "import { coldStart } from '../../lib/runtime/cold-start.js';"),
        file('lib/usecases/retention.ts', "import type { Deps } from './deps.js';"),
      ]),
    ).toEqual([]);
  });

  it.each([
    ['lib/adapters/ecs/adapter.ts', "import { x } from '../../usecases/retention.js';", 'lib/usecases/'],
    ['lib/adapters/ecs/adapter.ts', "import { x } from '../../../infra/build.js';", 'infra/'],
    ['lib/adapters/ecs/adapter.ts', "import { x } from '../../../local/cloud.js';", 'local/'],
    ['lib/adapters/ecs/adapter.ts', "import { x } from '../../../functions/api/index.js';", 'functions/'],
    ['functions/api/index.ts', "import { x } from '../../lib/adapters/mns/codec.js';", 'lib/adapters/'],
    ['lib/usecases/retention.ts', "import type { Deps } from '../runtime/deps.js';", 'lib/runtime/'],
    ['lib/usecases/jobs/engine.ts', "import { x } from '../../adapters/system.js';", 'lib/adapters/'],
  ])('refuses %s importing %s', (path, text, forbidden) => {
    const found = findLayerViolations([file(path, `\n${text}`)]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ file: path, line: 2 });
    expect(found[0]!.reason.startsWith(forbidden)).toBe(true);
  });

  it('the use-case rule refuses adapters, the runtime, functions and the local cloud', () => {
    const rules = [USE_CASE_RULE];
    const found = findLayerViolations(
      [
        file(
          'lib/usecases/jobs/engine.ts',
          [
            "import { a } from '../../adapters/system.js';",
            "import type { Deps } from '../../runtime/deps.js';",
            "import { f } from '../../../functions/worker/index.js';",
            "import { l } from '../../../local/cloud.js';",
            "import { d } from '../../domain/job.js';",
          ].join('\n'),
        ),
      ],
      rules,
    );
    expect(found.map((v) => [v.line, v.reason.split(' ')[0]])).toEqual([
      [1, 'lib/adapters/'],
      [2, 'lib/runtime/'],
      [3, 'functions/'],
      [4, 'local/'],
    ]);
  });
});
