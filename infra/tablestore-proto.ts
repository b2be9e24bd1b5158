import { readFile } from 'node:fs/promises';
import type * as esbuild from 'esbuild';

/**
 * `tablestore`'s generated protobuf module (2.6 MB) defines all of its 259 message types when it
 * loads, the search, SQL and time-series APIs included, while the adapters use about twenty; it
 * was a third of a function's cold start. At bundle time:
 * - each top-level `ns.Name = (function() { ... })();` of the `main` and `filter` namespaces becomes
 *   a getter that runs that definition on first use and then keeps its value. The generated code
 *   names other types only through `$root`, at call time, so the order of definition does not matter;
 * - the `search` namespace (search indexes, aggregations: 60 % of the file) is left out: no
 *   adapter calls those APIs, and its types and the table ones never refer to each other. Its names
 *   stay, as getters that throw saying so.
 * The build fails if the file's shape changes (`test/unit/infra/tablestore-proto.test.ts`).
 */
export const TABLESTORE_PROTO = 'lib/protocol/tablestore_compiled_proto.js';
export const TABLESTORE_PROTO_OMITTED = ['search'];

const NAMESPACE = /^\$root\.(\w+) = \(function\(\) \{$/;
const DEFINITION = /^ {8}([a-z]+)\.(\w+) = \(function\(\) \{$/;
const DEFINITION_END = '        })();';

const HELPERS = `
function __defineLazily(ns, name, define) {
  Object.defineProperty(ns, name, { configurable: true, enumerable: true, get: function () {
    var value = define();
    Object.defineProperty(ns, name, { value: value, writable: true, configurable: true, enumerable: true });
    return value;
  } });
}
function __leftOut(ns, path) {
  Object.defineProperty(ns, path.split('.').pop(), { configurable: true, enumerable: true, get: function () {
    throw new Error('tablestore: ' + path + ' is left out of the function bundle (infra/tablestore-proto.ts)');
  } });
}
`;

export interface LazyProto {
  code: string;
  /** `namespace.proto.Name` of each definition run on first use. */
  lazy: string[];
  /** ... and of each left out. */
  omitted: string[];
}

export function lazyProtoDefinitions(
  source: string,
  omit: readonly string[] = TABLESTORE_PROTO_OMITTED,
): LazyProto {
  const lazy: string[] = [];
  const omitted: string[] = [];
  const out: string[] = [];
  let namespace = '';
  let open: string | undefined;
  for (const [i, line] of source.split('\n').entries()) {
    const start = DEFINITION.exec(line);
    const dropping = open !== undefined && omit.includes(namespace);
    if (start !== null) {
      if (open !== undefined) throw new Error(`${TABLESTORE_PROTO}:${i + 1}: ${open} is not closed`);
      open = `${namespace}.${start[1]}.${start[2]}`;
      out.push(
        omit.includes(namespace)
          ? `        __leftOut(${start[1]}, ${JSON.stringify(open)});`
          : `        __defineLazily(${start[1]}, ${JSON.stringify(start[2])}, function() {`,
      );
    } else if (open !== undefined && line === DEFINITION_END) {
      (dropping ? omitted : lazy).push(open);
      if (!dropping) out.push('        });');
      open = undefined;
    } else if (!dropping) {
      if (open === undefined) namespace = NAMESPACE.exec(line)?.[1] ?? namespace;
      out.push(line);
    }
  }
  if (open !== undefined) throw new Error(`${TABLESTORE_PROTO}: ${open} is not closed`);
  // Appended: function declarations are hoisted, and the file's "use strict" stays first.
  return { code: `${out.join('\n')}\n${HELPERS}`, lazy, omitted };
}

export function lazyTablestoreProto(): esbuild.Plugin {
  return {
    name: 'lazy-tablestore-proto',
    setup(build) {
      build.onLoad(
        {
          filter: /[\\/]node_modules[\\/]tablestore[\\/]lib[\\/]protocol[\\/]tablestore_compiled_proto\.js$/,
        },
        async (args) => {
          const { code, lazy, omitted } = lazyProtoDefinitions(await readFile(args.path, 'utf8'));
          // The package's shape changed: better a failed build than a bundle that loads it all again.
          if (lazy.length + omitted.length < 200 || omitted.length === 0)
            throw new Error(
              `${TABLESTORE_PROTO}: found ${lazy.length} message definitions to keep and ${omitted.length} to leave out`,
            );
          return { contents: code, loader: 'js' };
        },
      );
    },
  };
}
