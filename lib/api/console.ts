/**
 * The operator console's static files, served by the API function at `/console` on the API's own
 * origin, so the page calls `/api/v1` with no CORS. The files are read once, when the function
 * starts; they are public (the token is pasted into the page, never needed to load it).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FcHttpResponse } from '../runtime/fc.js';
import type { ApiMiddleware } from './middleware.js';

export const CONSOLE_PATH = '/console';

/**
 * No inline script or style, nothing from another origin, no framing, no forms posted elsewhere.
 * `style-src 'self'` still lets the page's script set element styles through the CSSOM.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

export interface ConsoleFiles {
  index: string;
  /** `assets/<name>` → content. */
  assets: Map<string, string>;
}

/** The built console in `dir` (index.html and assets/), or null when it was not built there. */
export function loadConsoleFiles(dir: string): ConsoleFiles | null {
  const indexFile = path.join(dir, 'index.html');
  if (!existsSync(indexFile)) return null;
  const assets = new Map<string, string>();
  const assetDir = path.join(dir, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir))
      assets.set(`assets/${name}`, readFileSync(path.join(assetDir, name), 'utf8'));
  }
  return { index: readFileSync(indexFile, 'utf8'), assets };
}

const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The answer for a path under /console, or null when the path is not the console's. */
export function consoleResponse(
  files: ConsoleFiles | null,
  method: string,
  urlPath: string,
): FcHttpResponse | null {
  if (urlPath !== CONSOLE_PATH && !urlPath.startsWith(`${CONSOLE_PATH}/`)) return null;
  const text = (status: number, body: string, extra: Record<string, string> = {}): FcHttpResponse => ({
    statusCode: status,
    headers: { ...COMMON_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...extra },
    body,
  });
  if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed\n', { allow: 'GET, HEAD' });
  if (files === null) {
    return text(503, 'the console is not built here; run npm run build (or npm start, which builds it)\n', {
      'cache-control': 'no-store',
    });
  }
  const rel = urlPath.slice(CONSOLE_PATH.length + 1);
  const asset = files.assets.get(rel);
  if (asset !== undefined) {
    return {
      statusCode: 200,
      headers: {
        ...COMMON_HEADERS,
        'content-type': TYPES[path.extname(rel)] ?? 'application/octet-stream',
        // Names carry their content hash: a changed file is a new name.
        'cache-control': 'public, max-age=31536000, immutable',
      },
      body: method === 'HEAD' ? '' : asset,
    };
  }
  if (rel.startsWith('assets/')) return text(404, 'no such asset\n', { 'cache-control': 'no-store' });
  // Every other path is the single page (its screens live in the URL fragment).
  return {
    statusCode: 200,
    headers: {
      ...COMMON_HEADERS,
      'content-type': TYPES['.html']!,
      // Always revalidated, so a deploy's new asset names are seen at once.
      'cache-control': 'no-cache',
      'content-security-policy': CONSOLE_CSP,
      'x-frame-options': 'DENY',
    },
    body: method === 'HEAD' ? '' : files.index,
  };
}

/** Answers console paths before the API's auth and routing; every other request goes on. */
export function serveConsole(files: ConsoleFiles | null): ApiMiddleware {
  return {
    before: function serveConsoleBefore(request) {
      const http = request.event.request!;
      return consoleResponse(files, http.method, http.path) ?? undefined;
    },
  };
}
