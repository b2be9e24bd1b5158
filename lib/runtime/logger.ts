import type { Logger } from './deps.js';

export type LogLevel = 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { info: 0, warn: 1, error: 2, silent: 3 };

/**
 * One JSON object per line on stdout/stderr: FC ships each line to Simple Log Service, where the
 * fields stay queryable. `base` fields (function name, request id) go on every line.
 */
export function createJsonLogger(
  options: {
    level?: LogLevel;
    base?: Record<string, unknown>;
    write?: (line: string, level: LogLevel) => void;
  } = {},
): Logger & { child(fields: Record<string, unknown>): Logger } {
  const min = RANK[options.level ?? 'info'];
  const write =
    options.write ??
    ((line: string, level: LogLevel) =>
      (level === 'info' ? process.stdout : process.stderr).write(`${line}\n`));
  const base = options.base ?? {};
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields }), level);
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createJsonLogger({ ...options, base: { ...base, ...fields } }),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
