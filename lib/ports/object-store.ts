/** Exported files and manifests. Adapters: a local folder, OSS. */
export interface ObjectStore {
  put(key: string, body: Buffer | string, contentType?: string): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  list(prefix: string): Promise<{ key: string; size: number }[]>;
  delete(prefix: string): Promise<void>;
  /** A URL that downloads the object until `expiresAt` (epoch ms). */
  signedUrl(key: string, expiresAt: number): Promise<string>;
}
