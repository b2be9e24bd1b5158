/**
 * The governance-lock override token. Never an option: a command line lands in shell history and
 * in every process listing, so it comes from an environment variable or a hidden prompt.
 */
import { BREAK_GLASS_HEADER } from '../domain/lock.js';
import { readHidden } from './commands/login.js';
import type { Context } from './context.js';
import { UsageError } from './errors.js';

export const BREAK_GLASS_ENV = 'ECS_BACKUP_BREAK_GLASS_TOKEN';

/** The header carrying the token, when asked for (`--break-glass`); nothing otherwise. */
export async function breakGlassHeaders(
  ctx: Context,
  asked: boolean | undefined,
): Promise<Record<string, string> | undefined> {
  if (!asked) return undefined;
  const fromEnv = process.env[BREAK_GLASS_ENV]?.trim();
  const token = fromEnv
    ? fromEnv
    : ctx.stdin.isTTY
      ? (await readHidden('break-glass token: ', ctx.stdin, ctx.stderr, 'break-glass')).trim()
      : '';
  if (!token)
    throw new UsageError(
      `--break-glass: no token; set ${BREAK_GLASS_ENV} or run on a terminal to be asked for it`,
    );
  return { [BREAK_GLASS_HEADER]: token };
}
