import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lazyProtoDefinitions, TABLESTORE_PROTO } from '../../../infra/tablestore-proto.js';

const root = path.resolve(import.meta.dirname, '../../..');
const requireFromTablestore = createRequire(path.join(root, 'node_modules', 'tablestore', TABLESTORE_PROTO));
const source = readFileSync(path.join(root, 'node_modules', 'tablestore', TABLESTORE_PROTO), 'utf8');

interface Message {
  create(properties: object): object;
  encode(message: object): { finish(): Uint8Array };
  decode(bytes: Uint8Array): object;
}
type Namespace = Record<string, Message>;
type ProtoRoot = Record<string, { proto: Namespace }>;

/** Runs a version of the generated module as CommonJS, on its own protobuf root. */
function load(code: string): ProtoRoot {
  const minimal = requireFromTablestore('protobufjs/minimal') as object;
  // A fresh `roots` object: the generated code registers itself there, and the untouched package
  // may be loaded in the same process.
  const runtime = Object.assign(Object.create(minimal) as object, { roots: {} });
  const module = { exports: {} as ProtoRoot };
  const run = new Function('require', 'module', 'exports', code) as (
    r: (id: string) => unknown,
    m: typeof module,
    e: ProtoRoot,
  ) => void;
  run((id) => (id === 'protobufjs/minimal' ? runtime : requireFromTablestore(id)), module, module.exports);
  return module.exports;
}

describe('the tablestore protobuf module as the function bundles load it', () => {
  const patched = lazyProtoDefinitions(source);
  const original = load(source);
  const lazy = load(patched.code);

  it('keeps every table and filter message type, run on first use, and leaves the search ones out', () => {
    expect(patched.lazy).toContain('main.proto.PutRowRequest');
    expect(patched.lazy).toContain('filter.proto.Filter');
    expect(patched.omitted).toContain('search.proto.SearchRequest');
    expect(patched.lazy.every((p) => !p.startsWith('search.'))).toBe(true);
    expect(patched.omitted.every((p) => p.startsWith('search.'))).toBe(true);
    expect(patched.lazy.length + patched.omitted.length).toBe(259);
    for (const ns of ['main', 'filter', 'search'])
      expect(Object.keys(lazy[ns]!.proto).sort(), ns).toEqual(Object.keys(original[ns]!.proto).sort());
    expect(Object.getOwnPropertyDescriptor(lazy.main!.proto, 'GetRowRequest')?.get).toBeTypeOf('function');
  });

  it('encodes and decodes exactly as the untouched module, nested types included', () => {
    const put = {
      tableName: 'jobs',
      row: Buffer.from([1, 2, 3]),
      condition: { rowExistence: 2, columnCondition: Buffer.from([9]) },
      returnContent: { returnType: 1 },
    };
    const bytes = (m: ProtoRoot) => {
      const type = m.main!.proto.PutRowRequest!;
      return Buffer.from(type.encode(type.create(put)).finish());
    };
    expect(bytes(lazy).equals(bytes(original))).toBe(true);
    const response = original.main!.proto.PutRowResponse!;
    const encoded = response
      .encode(response.create({ consumed: { capacityUnit: { read: 0, write: 1 } } }))
      .finish();
    expect(JSON.stringify(lazy.main!.proto.PutRowResponse!.decode(encoded))).toBe(
      JSON.stringify(response.decode(encoded)),
    );
  });

  it('says which type is missing when a search type is asked for', () => {
    expect(() => lazy.search!.proto.SearchRequest).toThrow(/search\.proto\.SearchRequest is left out/);
  });

  it('refuses a file whose shape it does not know', () => {
    const truncated = source.slice(0, source.indexOf('        })();'));
    expect(() => lazyProtoDefinitions(truncated)).toThrow(/main\.proto\.\w+ is not closed/);
  });
});
