/** A signed download: where, until when (epoch ms), under which name. */
export interface DownloadLink {
  url: string;
  expiresAt: number;
  filename: string;
  etag?: string;
}

/**
 * A file answered by the API itself: a packed file's bytes are a range of its pack, which a signed
 * URL cannot limit itself to. Packed files are small (below PACK_FILE_BYTES), so the body is too.
 */
export interface DownloadBytes {
  body: Buffer;
  filename: string;
  contentDisposition: string;
  etag?: string;
}

/** How long a download link works. */
export const DOWNLOAD_URL_MS = 15 * 60_000;

/**
 * `Content-Disposition: attachment` with the name twice: an ASCII fallback, and the exact name in
 * RFC 5987 form (`filename*`), which browsers prefer.
 */
export function attachment(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const exact = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}
