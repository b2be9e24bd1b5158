/** The only source of time for lib/. Adapters: the system clock, or a manual clock in tests. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** The only source of random ids for lib/. */
export interface IdSource {
  /** A new id: `prefix` + url-safe random characters, e.g. `plan-9f3k2m...`. */
  next(prefix: string): string;
}
