import type { EcsEmulator, EmulatorAdmin } from './types.js';

export interface RemoteEmulatorOptions {
  /** `http://host:port` of an emulator already running (`npm run emulator`). */
  url: string;
  regionId: string;
  accessKeyId: string;
  accessKeySecret: string;
}

/**
 * An ECS emulator running in another process, reached over HTTP: the SDK talks to its endpoint and
 * the admin methods go to `/__admin/<method>`. The local cloud uses it when ECS_ENDPOINT is set, so
 * the "cloud" outlives the engine (the crash tests kill the engine, never the emulator).
 */
export async function connectEcsEmulator(options: RemoteEmulatorOptions): Promise<EcsEmulator> {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new Error(`ECS_ENDPOINT: ${options.url} is not a URL (expected http://host:port)`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new Error(`ECS_ENDPOINT: ${options.url} is not an http(s) URL (expected http://host:port)`);
  const root = base.origin;
  const call = async (method: string, arg: unknown, region: string | null): Promise<unknown> => {
    let res: Response;
    const query = region === null ? '' : `?region=${encodeURIComponent(region)}`;
    try {
      res = await fetch(`${root}/__admin/${method}${query}`, {
        method: 'POST',
        ...(arg === undefined ? {} : { body: JSON.stringify(arg) }),
      });
    } catch (err) {
      throw new Error(`ECS emulator at ${root} is not reachable: ${(err as Error).message}`, { cause: err });
    }
    const body = (await res.json()) as Record<string, unknown>;
    if (!res.ok)
      throw new Error(`ECS emulator ${method}: ${String(body['Code'])}: ${String(body['Message'])}`);
    return Object.keys(body).length === 1 && body['ok'] === true ? undefined : body;
  };
  // Any admin method by name; `then` stays undefined so the object is not mistaken for a promise.
  const adminFor = (region: string | null): EmulatorAdmin =>
    new Proxy({} as EmulatorAdmin, {
      get: (_, name) => {
        if (name === 'inRegion') return (id: string) => adminFor(id);
        return typeof name === 'string' && name !== 'then'
          ? (arg?: unknown) => call(name, arg, region)
          : undefined;
      },
    });
  const admin = adminFor(null);
  const guestMode = await admin.guestMode();
  return {
    endpoint: base.host,
    url: root,
    regionId: options.regionId,
    accessKeyId: options.accessKeyId,
    accessKeySecret: options.accessKeySecret,
    admin,
    guestMode,
    // Not ours to stop: it runs on when the local cloud stops.
    close: async () => undefined,
  };
}
