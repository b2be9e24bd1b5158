import type { Logger } from '../../lib/runtime/deps.js';

/** Readable one-line logs for a terminal: `12:00:01 WARN job delayed by ECS jobId=... code=...`. */
export function createConsoleLogger(
  options: { quiet?: boolean; write?: (line: string) => void } = {},
): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: string, message: string, fields?: Record<string, unknown>) => {
    if (options.quiet && level === 'INFO') return;
    const time = new Date().toISOString().slice(11, 19);
    const rest = Object.entries(fields ?? {})
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    write(`${time} ${level.padEnd(5)} ${message}${rest ? ` ${rest}` : ''}`);
  };
  return {
    info: (m, f) => emit('INFO', m, f),
    warn: (m, f) => emit('WARN', m, f),
    error: (m, f) => emit('ERROR', m, f),
  };
}
