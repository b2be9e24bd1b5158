import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FcContext } from '../../lib/runtime/fc.js';

export type FunctionName = 'api' | 'scheduler' | 'worker' | 'retention';

export interface FcHost {
  /** Invokes a function the way FC does: the event as a Buffer of JSON, the context with credentials. */
  invoke<R = unknown>(fn: FunctionName, event: unknown, context?: Partial<FcContext>): Promise<R>;
  /** The host process's JSON log lines (stdout and stderr), newest last. */
  logs: string[];
  pid: number;
  close(): Promise<void>;
}

interface Reply {
  id: string;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** An invocation that failed inside the function (FC reports it as an unhandled error). */
export class InvocationError extends Error {
  constructor(fn: string, message: string) {
    super(`${fn} invocation failed: ${message}`);
    this.name = 'InvocationError';
  }
}

/**
 * Starts the bundles' host process (`fc-host.mjs`) with the functions' environment. Credentials
 * travel in each invocation's context, never in the environment, as on FC.
 */
export async function startFcHost(options: {
  bundlesDir: string;
  env: Record<string, string>;
  /** Echo the functions' log lines (cloud mode on a terminal). */
  echo?: (line: string) => void;
  /** Tests: an invocation whose event contains this text fails as a killed instance's would. */
  crashOn?: string;
}): Promise<FcHost> {
  const script = fileURLToPath(new URL('./fc-host.mjs', import.meta.url));
  const child: ChildProcess = fork(script, [], {
    env: {
      PATH: process.env.PATH ?? '',
      ...options.env,
      FC_BUNDLES_DIR: options.bundlesDir,
      ...(options.crashOn ? { FC_HOST_CRASH_ON: options.crashOn } : {}),
    },
    execArgv: ['--enable-source-maps'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const logs: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      logs.push(line);
      if (logs.length > 5000) logs.shift();
      options.echo?.(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const pending = new Map<string, { resolve(v: unknown): void; reject(e: Error): void; fn: string }>();
  let exited = false;
  child.on('exit', (code) => {
    exited = true;
    for (const p of pending.values()) p.reject(new Error(`the function host exited (${code})`));
    pending.clear();
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the function host exited at start (${code})`)));
  });
  child.on('message', (message: Reply) => {
    const p = pending.get(message.id);
    if (p === undefined) return;
    pending.delete(message.id);
    if (message.ok) p.resolve(message.result);
    else p.reject(new InvocationError(p.fn, message.error ?? 'unknown error'));
  });
  return {
    logs,
    pid: child.pid ?? 0,
    invoke<R>(fn: FunctionName, event: unknown, context: Partial<FcContext> = {}): Promise<R> {
      if (exited) return Promise.reject(new Error('the function host is not running'));
      const id = randomUUID();
      const fcContext: FcContext = {
        requestId: id,
        function: { name: `ecs-backup-${fn}`, timeout: fn === 'retention' ? 600 : 60 },
        ...context,
      };
      const event64 = Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)).toString(
        'base64',
      );
      return new Promise<R>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, fn });
        child.send({ id, fn, event: event64, context: fcContext });
      });
    },
    async close() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}
