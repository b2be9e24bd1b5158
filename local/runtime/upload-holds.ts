/**
 * Holds uploads to the local object store or to the OSS emulator (its `holdUploads`): an
 * upload whose key matches waits, before a byte is stored, until the hold is released. How a test
 * lands a cancel in the middle of an export's uploads.
 */
export interface UploadHold {
  release(): void;
  /** Uploads waiting on this hold now. */
  held(): number;
}

export class UploadHolds {
  private readonly holds = new Set<{
    match: (key: string) => boolean;
    waiting: Set<object>;
    gate: Promise<void>;
  }>();

  hold(match: (key: string) => boolean): UploadHold {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const hold = { match, waiting: new Set<object>(), gate };
    this.holds.add(hold);
    return {
      release: () => {
        this.holds.delete(hold);
        open();
      },
      held: () => hold.waiting.size,
    };
  }

  /** Resolves once no hold matches `key` any more. */
  async wait(key: string): Promise<void> {
    for (const hold of this.holds) {
      if (!hold.match(key)) continue;
      const token = {};
      hold.waiting.add(token);
      await hold.gate;
      hold.waiting.delete(token);
    }
  }
}
