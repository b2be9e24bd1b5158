import { openEmbeddedQueue } from '../../../lib/adapters/embedded-queue/index.js';

/**
 * A consumer in its own process: receives one message from the queue in the given file, says so
 * on stdout, and holds it until killed.
 */
const [file, name] = process.argv.slice(2) as [string, string];
const queue = openEmbeddedQueue(file, name, { visibilityTimeoutSeconds: 600, maxReceiveCount: 10 });
const got = await queue.receive({ max: 1, waitSeconds: 10 });
process.stdout.write(`held ${got.map((m) => m.body).join(',')}\n`);
setInterval(() => undefined, 60_000);
