import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as esbuild from 'esbuild';

/**
 * Names the `tablestore` package (5.x) assigns without declaring them. CommonJS files run in sloppy
 * mode, where that creates a global; inside an ES-module bundle everything is strict and the first
 * GetRange throws `ReferenceError: key is not defined`. Declaring them at the top of their file
 * keeps the package's behaviour. `test/unit/infra/build.test.ts` lints the installed package and
 * fails when a new undeclared name appears (or one listed here goes away).
 */
export const TABLESTORE_UNDECLARED: Readonly<Record<string, readonly string[]>> = {
  'lib/filter.js': ['pro', 'combinator'],
  'lib/protocol/encoder.js': ['sub'],
  'lib/protocol/plain_buffer_coded_stream.js': ['cell_type'],
  'lib/protocol/plian_buffer_builder.js': ['key', 'size'],
};

export function patchTablestore(): esbuild.Plugin {
  return {
    name: 'patch-tablestore',
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/]tablestore[\\/]lib[\\/].*\.js$/ }, async (args) => {
        const relative = args.path.split(`${path.sep}node_modules${path.sep}tablestore${path.sep}`)[1];
        const names =
          relative === undefined ? undefined : TABLESTORE_UNDECLARED[relative.split(path.sep).join('/')];
        if (names === undefined) return undefined;
        const source = await readFile(args.path, 'utf8');
        return { contents: `var ${names.join(', ')};\n${source}`, loader: 'js' };
      });
    },
  };
}

/**
 * zod's namespace export carries every language's error messages (a quarter of a megabyte in each
 * bundle, parsed at every cold start); the API answers in English only, so `locales` holds `en`.
 */
export function englishZodOnly(): esbuild.Plugin {
  return {
    name: 'english-zod-only',
    setup(build) {
      build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
        if (!/[\\/]node_modules[\\/]zod[\\/]v4[\\/]/.test(args.importer)) return undefined;
        return { path: path.join(path.dirname(args.importer), '..', 'locales'), namespace: 'zod-english' };
      });
      build.onLoad({ filter: /.*/, namespace: 'zod-english' }, (args) => ({
        contents: "export { default as en } from './en.js';",
        resolveDir: args.path,
        loader: 'js',
      }));
    },
  };
}
