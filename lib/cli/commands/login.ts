/**
 * `login`: checks a token against the API, then saves endpoint and token (0600) for later commands.
 * The token is read without echo on a terminal (or from stdin when piped) and never printed.
 */
import type { Command } from 'commander';
import { ApiClient } from '../client.js';
import { configPath, DEFAULT_ENDPOINT, normalizeEndpoint, readConfig, writeConfig } from '../config.js';
import { context, type GlobalOptions } from '../context.js';
import { CliError, UsageError } from '../errors.js';

/** Reads one line from the terminal in raw mode, echoing nothing (not even `*`, which tells the length). */
export function readHidden(
  prompt: string,
  stdin: NodeJS.ReadStream,
  stderr: NodeJS.WriteStream,
  what = 'login',
): Promise<string> {
  stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (fn: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      fn();
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(() => resolve(value));
        if (ch === '\u0003') return done(() => reject(new CliError(`${what} canceled`, 130)));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readPiped(stdin: NodeJS.ReadStream): Promise<string> {
  let text = '';
  for await (const chunk of stdin) text += chunk.toString();
  return text.split(/\r?\n/)[0] ?? '';
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('check a token and save it with the endpoint (mode 0600) for later commands')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const file = configPath();
      const endpoint = normalizeEndpoint(
        opts.endpoint ?? process.env['ECS_BACKUP_ENDPOINT'] ?? readConfig(file).endpoint ?? DEFAULT_ENDPOINT,
      );
      const raw =
        opts.token ??
        (ctx.stdin.isTTY
          ? await readHidden(`API token for ${endpoint}: `, ctx.stdin, ctx.stderr)
          : await readPiped(ctx.stdin));
      const token = raw.trim();
      if (!token)
        throw new UsageError('token: empty; paste the API token (e.g. the content of .data/api-token)');
      // A cheap authenticated read: a wrong token is refused here (exit 3) and nothing is saved.
      await new ApiClient({ endpoint, token }).get('/instances', { limit: 1 });
      writeConfig({ endpoint, token }, file);
      ctx.out.done(`logged in to ${endpoint}; saved to ${file} (mode 0600)`, { endpoint, configFile: file });
    });
}
