/**
 * Plays Function Compute's Node.js runtime for the built bundles, in a process of its own: each
 * function is loaded from `<FC_BUNDLES_DIR>/<name>/index.mjs` on its first invocation (its cold
 * start) and its `handler(event, context)` is called with the event as a Buffer, as FC does.
 * Plain JavaScript on purpose: what runs here is exactly what FC would load, with no TypeScript
 * loader in between. The parent sends `{ id, fn, event (base64), context }` and gets
 * `{ id, ok, result | error, coldStartMs }` back.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.env.FC_BUNDLES_DIR;
if (!root) throw new Error('FC_BUNDLES_DIR is not set');
/**
 * Tests: an invocation whose event holds this text dies the way a killed instance does (timeout,
 * out of memory): the function never answers and FC reports the invocation failed.
 */
const crashOn = process.env.FC_HOST_CRASH_ON;
const instances = new Map();

function load(fn) {
  let instance = instances.get(fn);
  if (instance === undefined) {
    const started = performance.now();
    instance = import(pathToFileURL(path.join(root, fn, 'index.mjs')).href).then((mod) => ({
      handler: mod.handler,
      coldStartMs: performance.now() - started,
    }));
    instances.set(fn, instance);
  }
  return instance;
}

/** The event's text, or an MNS message body inside it (sent base64-encoded), contains `text`. */
function mentions(eventText, text) {
  if (eventText.includes(text)) return true;
  try {
    const parsed = JSON.parse(eventText);
    return (Array.isArray(parsed) ? parsed : [parsed]).some(
      (e) =>
        typeof e?.data?.messageBody === 'string' &&
        Buffer.from(e.data.messageBody, 'base64').toString('utf8').includes(text),
    );
  } catch {
    return false;
  }
}

process.on('message', (message) => {
  const { id, fn, event, context } = message;
  if (crashOn && mentions(Buffer.from(event, 'base64').toString('utf8'), crashOn)) {
    process.send({ id, ok: false, error: 'Error: the function instance was killed (out of memory)' });
    return;
  }
  load(fn)
    .then(async ({ handler, coldStartMs }) => {
      const result = await handler(Buffer.from(event, 'base64'), context);
      process.send({ id, ok: true, result, coldStartMs });
    })
    .catch((err) => {
      process.send({
        id,
        ok: false,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    });
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
