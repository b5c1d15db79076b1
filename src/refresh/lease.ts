import { DEFAULT_ACCOUNT } from '../credentials/accounts.ts';
import { isKeygateError } from '../errors.ts';
import type { KvRecord } from '../vault/kv.ts';

/** The part of KvStore a lease needs. */
export interface LeaseKv {
  read(path: string): Promise<KvRecord | undefined>;
  write(
    path: string,
    data: Record<string, unknown>,
    options?: { cas?: number },
  ): Promise<{ version: number }>;
}

export interface LeaseOptions {
  kv: LeaseKv;
  /** Who holds a lease: unique per process, so a restarted process never mistakes an old lease for its own. */
  holder: string;
  leaseMs: number;
  now?: () => number;
}

export type Acquired = { lease: Lease } | { heldUntil: number };

/**
 * Refresh leases across replicas, one KV record per credential at
 * `leases/<tenant>/<integration>` (the default account; another account one level
 * deeper, `.../<account>`, as credentials are) holding `{holder, expiresAt}`.
 *
 * Acquiring is a check-and-set write: `cas: 0` when there has never been a lease,
 * or `cas: <version>` over a lease whose time has passed; a lost race is a
 * `conflict`, so exactly one replica wins. Releasing CAS-writes an expired marker
 * at the version this holder wrote, rather than deleting: a delete could remove a
 * lease another replica took over after ours lapsed. The lease relies on replica
 * clocks agreeing to well within its lifetime.
 */
export class LeaseManager {
  readonly #kv: LeaseKv;
  readonly #holder: string;
  readonly #leaseMs: number;
  readonly #now: () => number;

  constructor({ kv, holder, leaseMs, now = Date.now }: LeaseOptions) {
    if (!(leaseMs > 0)) throw new TypeError('leaseMs must be a positive number of milliseconds');
    this.#kv = kv;
    this.#holder = holder;
    this.#leaseMs = leaseMs;
    this.#now = now;
  }

  get holder(): string {
    return this.#holder;
  }

  /** Takes the lease for a credential, or says until when another replica holds it. */
  async tryAcquire(tenant: string, integration: string, account = DEFAULT_ACCOUNT): Promise<Acquired> {
    const path = leasePath(tenant, integration, account);
    const current = await this.#kv.read(path);
    const now = this.#now();
    if (current) {
      const expiresAt = Number(current.data['expiresAt']);
      if (Number.isFinite(expiresAt) && expiresAt > now) return { heldUntil: expiresAt };
    }
    const expiresAt = now + this.#leaseMs;
    try {
      const { version } = await this.#kv.write(
        path,
        { holder: this.#holder, expiresAt },
        { cas: current?.version ?? 0 },
      );
      return { lease: new Lease(this.#kv, path, this.#holder, version, expiresAt, this.#leaseMs, this.#now) };
    } catch (err) {
      // Another replica won the race between our read and our write.
      if (isKeygateError(err, 'conflict')) return { heldUntil: now + this.#leaseMs };
      throw err;
    }
  }
}

/** A lease this process holds. */
export class Lease {
  readonly #kv: LeaseKv;
  readonly #path: string;
  readonly #holder: string;
  readonly #leaseMs: number;
  readonly #now: () => number;
  #version: number;
  #expiresAt: number;

  constructor(
    kv: LeaseKv,
    path: string,
    holder: string,
    version: number,
    expiresAt: number,
    leaseMs: number,
    now: () => number,
  ) {
    this.#kv = kv;
    this.#path = path;
    this.#holder = holder;
    this.#version = version;
    this.#expiresAt = expiresAt;
    this.#leaseMs = leaseMs;
    this.#now = now;
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }

  /**
   * Makes sure at least `minRemainingMs` of the lease is left (renewing it with
   * check-and-set when not). False when another replica took it over meanwhile.
   */
  async ensure(minRemainingMs: number): Promise<boolean> {
    const now = this.#now();
    if (this.#expiresAt - now >= minRemainingMs) return true;
    const expiresAt = now + Math.max(this.#leaseMs, minRemainingMs);
    try {
      const { version } = await this.#kv.write(
        this.#path,
        { holder: this.#holder, expiresAt },
        { cas: this.#version },
      );
      this.#version = version;
      this.#expiresAt = expiresAt;
      return true;
    } catch (err) {
      if (isKeygateError(err, 'conflict')) return false;
      throw err;
    }
  }

  /** Lets the lease go; a failure only means others wait for it to lapse. */
  async release(): Promise<void> {
    try {
      await this.#kv.write(this.#path, { holder: null, expiresAt: 0 }, { cas: this.#version });
    } catch {
      // Conflict: someone took it over after it lapsed. Vault down: it lapses by itself.
    }
    this.#expiresAt = 0;
  }
}

export function leasePath(tenant: string, integration: string, account = DEFAULT_ACCOUNT): string {
  const base = `leases/${tenant}/${integration}`;
  return account === DEFAULT_ACCOUNT ? base : `${base}/${account}`;
}
