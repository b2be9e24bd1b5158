#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader, so the command works on a clean clone after
// `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exit(await main(process.argv.slice(2)));
