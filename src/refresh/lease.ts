import { refKey, type CredentialRef } from '../credentials/ref.ts';
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

/** The lease record as read, before a decision is taken on it. */
export interface LeaseState {
  path: string;
  /** The lease record's own KV version (0: never written). */
  version: number;
  holder: string | null;
  expiresAt: number;
  /** The credential version the holder started from; Infinity for a record without one. */
  credentialVersion: number;
}

export type Acquired = { lease: Lease; tookOver: boolean } | { heldUntil: number };

/**
 * Refresh leases across replicas, one KV record per credential at
 * `leases/<tenant>/<integration>` (the default account; another account one level
 * deeper, `.../<account>`, as credentials are) holding `{holder, expiresAt,
 * credentialVersion}`.
 *
 * Taking a lease is one check-and-set write over the version read, so exactly one replica
 * wins. The lease names the credential version its holder read, and the holder writes the
 * refreshed credential with check-and-set on that version: once that write lands the
 * credential's version has moved past the lease's, which frees the lease without a release
 * write (two Vault writes per refresh: take, credential). A lease is free when its time has
 * passed, when the credential moved past its version, or when it was released explicitly
 * (a refresh that wrote nothing). The caller must read the lease record before the
 * credential (see `read`); the lease relies on replica clocks agreeing to well within its
 * lifetime.
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

  /**
   * Reads the lease record. Read it before the credential: a holder that finished after
   * this read is then seen in the credential's version, and one that took the lease after
   * it makes `take` lose its check-and-set.
   */
  async read(ref: CredentialRef): Promise<LeaseState> {
    const path = leasePath(ref);
    const current = await this.#kv.read(path);
    const expiresAt = Number(current?.data['expiresAt']);
    const holder = current?.data['holder'];
    const credentialVersion = current?.data['credentialVersion'];
    return {
      path,
      version: current?.version ?? 0,
      holder: typeof holder === 'string' ? holder : null,
      expiresAt: Number.isFinite(expiresAt) ? expiresAt : 0,
      // A lease written by a Keygate that did not record the version is held until it lapses.
      credentialVersion: typeof credentialVersion === 'number' ? credentialVersion : Infinity,
    };
  }

  /** Takes the lease for the credential at `credentialVersion` (read after `state`), or says until when it is held. */
  async take(state: LeaseState, credentialVersion: number): Promise<Acquired> {
    const now = this.#now();
    const live = state.holder !== null && state.expiresAt > now;
    // Held by another replica working from this very version (or a later one we have not seen).
    if (live && state.holder !== this.#holder && state.credentialVersion >= credentialVersion) {
      return { heldUntil: state.expiresAt };
    }
    // A lapsed lease of another holder on this version: that holder may still be alive but
    // stalled, with the refresh token already sent. The refresh must not trust a refusal then.
    const tookOver =
      state.holder !== null && state.holder !== this.#holder && state.credentialVersion === credentialVersion;
    const expiresAt = now + this.#leaseMs;
    try {
      const { version } = await this.#kv.write(
        state.path,
        { holder: this.#holder, expiresAt, credentialVersion },
        { cas: state.version },
      );
      const lease = new Lease({
        kv: this.#kv,
        path: state.path,
        holder: this.#holder,
        version,
        expiresAt,
        credentialVersion,
        leaseMs: this.#leaseMs,
        now: this.#now,
      });
      return { lease, tookOver };
    } catch (err) {
      // Another replica won the race between our read and our write.
      if (isKeygateError(err, 'conflict')) return { heldUntil: now + this.#leaseMs };
      throw err;
    }
  }
}

interface LeaseInit {
  kv: LeaseKv;
  path: string;
  holder: string;
  version: number;
  expiresAt: number;
  credentialVersion: number;
  leaseMs: number;
  now: () => number;
}

/** A lease this process holds. */
export class Lease {
  readonly #init: LeaseInit;
  #version: number;
  #expiresAt: number;
  #lost = false;
  #keeper: NodeJS.Timeout | undefined;
  #renewing: Promise<boolean> | undefined;

  constructor(init: LeaseInit) {
    this.#init = init;
    this.#version = init.version;
    this.#expiresAt = init.expiresAt;
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }

  /** True once a renewal found the lease taken over by another replica. */
  get lost(): boolean {
    return this.#lost;
  }

  /**
   * Makes sure at least `minRemainingMs` of the lease is left (renewing it with
   * check-and-set when not). False when another replica took it over meanwhile, or when
   * Vault took so long that the renewed lease lapsed already.
   */
  async ensure(minRemainingMs: number): Promise<boolean> {
    if (this.#lost) return false;
    const { now } = this.#init;
    if (this.#expiresAt - now() >= minRemainingMs) return true;
    if (!(await this.#renew(Math.max(this.#init.leaseMs, minRemainingMs)))) return false;
    return this.#expiresAt > now();
  }

  /**
   * Renews the lease whenever less than half of it is left, while the work under it goes
   * on (a slow Vault write, a provider that answers late): a live holder's lease must not
   * lapse. A quick refresh ends before the first renewal, so it costs no write.
   */
  keepAlive(): void {
    if (this.#keeper) return;
    const { leaseMs, now } = this.#init;
    const tick = () => {
      if (this.#lost) return;
      if (this.#expiresAt - now() < leaseMs / 2) void this.#renew(leaseMs).catch(() => false);
      this.#keeper = setTimeout(tick, Math.max(50, leaseMs / 8));
      this.#keeper.unref();
    };
    this.#keeper = setTimeout(tick, Math.max(50, leaseMs / 8));
    this.#keeper.unref();
  }

  /** Stops the renewals; the lease is then freed by the credential write, a release, or time. */
  stopKeepAlive(): void {
    clearTimeout(this.#keeper);
    this.#keeper = undefined;
  }

  /** Lets the lease go when no credential write freed it; a failure only means others wait for it to lapse. */
  async release(): Promise<void> {
    this.stopKeepAlive();
    await this.#renewing?.catch(() => false);
    const { kv, path } = this.#init;
    try {
      await kv.write(path, { holder: null, expiresAt: 0, credentialVersion: 0 }, { cas: this.#version });
    } catch {
      // Conflict: someone took it over after it lapsed. Vault down: it lapses by itself.
    }
    this.#expiresAt = 0;
  }

  // One renewal at a time: two check-and-set writes on one version would make the second look lost.
  #renew(forMs: number): Promise<boolean> {
    this.#renewing ??= this.#write(forMs).finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  async #write(forMs: number): Promise<boolean> {
    const { kv, path, holder, credentialVersion, now } = this.#init;
    const expiresAt = now() + forMs;
    try {
      const { version } = await kv.write(
        path,
        { holder, expiresAt, credentialVersion },
        { cas: this.#version },
      );
      this.#version = version;
      this.#expiresAt = expiresAt;
      return true;
    } catch (err) {
      if (isKeygateError(err, 'conflict')) {
        this.#lost = true;
        return false;
      }
      throw err;
    }
  }
}

/** The KV path of a credential's lease, relative to Keygate's prefix: laid out as credentials are (accounts.ts). */
export function leasePath(ref: CredentialRef): string {
  return `leases/${refKey(ref)}`;
}
