import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(root, 'lib/cli/bin.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  input?: string;
  /** Where the binary runs (default: the repository). */
  cwd?: string;
}

/** The real binary in a child process (pipes, so not a terminal); `child` to signal it meanwhile. */
export function cliChild(
  args: string[],
  options: RunOptions = {},
): { child: ChildProcess; live: Run; result: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? root,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/tmp',
      ...options.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const run: Run = { code: null, stdout: '', stderr: '' };
  child.stdout!.on('data', (b: Buffer) => (run.stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (run.stderr += b.toString()));
  child.stdin!.end(options.input ?? '');
  const result = new Promise<Run>((resolve) =>
    child.once('close', (code) => resolve(Object.assign(run, { code }))),
  );
  return { child, live: run, result };
}

export function cli(args: string[], options: RunOptions = {}): Promise<Run> {
  return cliChild(args, options).result;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface TtyRun {
  /** Everything the terminal showed (stdout and stderr together, as on a screen). */
  output(): string;
  write(text: string): void;
  exited: Promise<number | null>;
}

/**
 * The real binary on a pseudo-terminal: util-linux `script` gives it a pty for stdin, stdout and
 * stderr; what the test writes goes through the pty's line discipline, so `\x03` is a real SIGINT.
 */
export function cliOnTty(args: string[], options: RunOptions = {}): TtyRun {
  // `exec`: no shell stays between the pty and the CLI to take the SIGINT (and exit 130) itself.
  const command = `exec ${[process.execPath, BIN, ...args].map(shellQuote).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/tmp',
      TERM: 'xterm',
      COLUMNS: '120',
      ...options.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return {
    output: () => out,
    write: (text) => child.stdin.write(text),
    exited: new Promise((resolve) => child.once('close', (code) => resolve(code))),
  };
}

/** Waits for text to appear on the terminal (condition wait, no fixed sleep). */
export async function seen(tty: TtyRun, text: string | RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const has = () => (typeof text === 'string' ? tty.output().includes(text) : text.test(tty.output()));
  while (!has()) {
    if (Date.now() > deadline) throw new Error(`terminal never showed ${String(text)}:\n${tty.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
