/** One STS-style credential set: an access key pair and the security token issued with it. */
export interface KeySet {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/**
 * The credential sets an emulator accepts now, as STS would: a new set is valid as soon as it is
 * issued, the previous one until it expires. Function Compute rotates a function role's set while
 * instances keep running, so the emulators must honour whichever set is current and refuse an
 * expired one. Shared by the ECS, Tablestore and MNS emulators (one ring can serve all three).
 */
export class KeyRing {
  private readonly sets = new Map<string, KeySet>();

  constructor(initial: readonly KeySet[] = []) {
    for (const set of initial) this.issue(set);
  }

  issue(set: KeySet): void {
    this.sets.set(set.accessKeyId, { ...set });
  }

  /** The set is refused from now on. */
  expire(accessKeyId: string): void {
    this.sets.delete(accessKeyId);
  }

  find(accessKeyId: string | undefined): KeySet | undefined {
    return accessKeyId === undefined ? undefined : this.sets.get(accessKeyId);
  }
}
