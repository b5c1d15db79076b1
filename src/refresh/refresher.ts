import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { AuthConfig, Config } from '../config/schema.ts';
import { credentialRef, refKey, type CredentialRef } from '../credentials/ref.ts';
import type { Credential } from '../credentials/types.ts';
import { KeygateError, isKeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { inSpan } from '../observability/tracing.ts';
import { authFor } from '../oauth/client.ts';
import { TokenEndpointError, type TokenSet } from '../oauth/token-client.ts';
import { dueTime } from '../credentials/due-time.ts';
import type { RefreshEvent, RefreshEventName, RefreshReason } from './events.ts';
import { LeaseManager, type Lease, type LeaseKv } from './lease.ts';
import { PendingWrites } from './pending-writes.ts';
import { persistRefreshed, type RefreshStore } from './persist.ts';
import { grantFor, refreshed } from './refreshed-credential.ts';
import { failureCode, requestWithRetries } from './token-request.ts';

export interface RefreshOptions {
  reason: RefreshReason;
  /** The access token the upstream refused; when the stored one differs, it is returned as is. */
  staleAccessToken?: string;
}

export interface RefresherDeps {
  store: RefreshStore;
  kv: LeaseKv;
  config: Readonly<Config>;
  logger: Logger;
  /** Lease holder id; unique per process by default. */
  holder?: string;
  now?: () => number;
}

// Thrown inside a refresh when our lease was taken over; the refresh then waits like any other.
class LeaseLost extends Error {}

/**
 * Refreshes OAuth credentials, for the scheduler and for the proxy's 401 path alike:
 * one refresh per credential at a time in this process (single-flight), and across
 * replicas under a Vault lease, so a rotating refresh token is used exactly once.
 * The new pair is written with check-and-set before the lease is released. Emits
 * refresh-retry, refresh-success and refresh-failed (never a token).
 */
export class Refresher extends EventEmitter {
  readonly #store: RefreshStore;
  readonly #config: Readonly<Config>;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #leases: LeaseManager;
  readonly #pending: PendingWrites;
  readonly #inflight = new Map<string, Promise<Credential>>();

  constructor({ store, kv, config, logger, holder, now = Date.now }: RefresherDeps) {
    super();
    const { leaseSeconds, tokenTimeoutMs } = config.refresh;
    if (leaseSeconds * 1000 <= tokenTimeoutMs) {
      throw new TypeError(
        `refresh.leaseSeconds (${leaseSeconds}) must be longer than refresh.tokenTimeoutMs (${tokenTimeoutMs} ms)`,
      );
    }
    this.#store = store;
    this.#config = config;
    this.#logger = logger;
    this.#now = now;
    this.#leases = new LeaseManager({
      kv,
      holder: holder ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`,
      leaseMs: leaseSeconds * 1000,
      now,
    });
    this.#pending = new PendingWrites({
      store,
      refresh: config.refresh,
      logger,
      emit: (name, event) => this.#emit(name, event),
    });
  }

  /** Refreshed credentials that Vault has not taken yet (served from memory meanwhile). */
  get unpersisted(): number {
    return this.#pending.size;
  }

  /**
   * Refreshes one credential, or returns one that is already good enough (refreshed by a
   * concurrent caller or another replica). Permanent failure: status needs_reauth and
   * `credential_refresh_failed`; transient failure after retries: `token_endpoint_unavailable`.
   */
  refresh(ref: CredentialRef, options: RefreshOptions): Promise<Credential> {
    const pending = this.#pending.get(ref);
    if (pending) return Promise.resolve(pending);
    const key = refKey(ref);
    let flight = this.#inflight.get(key);
    if (!flight) {
      // The flight outlives this call: it keeps the three names, not what was handed in (a request's state).
      const own = credentialRef(ref.tenant, ref.integration, ref.account);
      // A scheduled refresh starts a trace of its own; any other is a child of who asked (a proxied request).
      flight = inSpan(
        'keygate.refresh',
        {
          root: options.reason === 'scheduled',
          who: own,
          attributes: { 'keygate.refresh.reason': options.reason },
        },
        () => this.#run(own, options),
      ).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, flight);
    }
    return flight;
  }

  /**
   * Lets refreshes in flight finish (a rotated token must reach Vault before the
   * process goes), bounded by one token request plus one Vault write; then stops
   * the write retries, logging any credential still unwritten.
   */
  async close(): Promise<void> {
    const inflight = [...this.#inflight.values()].map((flight) => flight.catch(() => undefined));
    if (inflight.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise((resolve) => (timer = setTimeout(resolve, this.#leaseMargin())));
      await Promise.race([Promise.all(inflight), bound]);
      clearTimeout(timer);
    }
    this.#pending.close();
  }

  async #run(ref: CredentialRef, options: RefreshOptions): Promise<Credential> {
    const auth = this.#config.integrations[ref.integration]?.auth;
    if (!auth) throw new KeygateError('unknown_integration');
    if (auth.type === 'api_key') {
      throw new KeygateError('bad_request', { message: 'API-key credentials are not refreshed.' });
    }
    const startedAt = this.#now();
    // A holder renews its lease to cover one token request plus one Vault write.
    const leaseMs = Math.max(this.#config.refresh.leaseSeconds * 1000, this.#leaseMargin());
    // A proxied request waits for another replica's refresh no longer than a live holder
    // needs (one token request and one Vault write); past that the holder is likely dead,
    // and the caller is better served by an error it can retry than by a minute of silence.
    const giveUpAt = startedAt + (options.reason === 'unauthorized' ? this.#leaseMargin() : 2 * leaseMs);
    for (;;) {
      // The lease before the credential: see LeaseManager.read.
      const state = await this.#leases.read(ref);
      const current = await this.#store.read(ref);
      if (this.#satisfied(current, options, startedAt)) return current;
      if (current.status === 'needs_reauth') throw needsReauth();
      const acquired = await this.#leases.take(state, current.version);
      if ('lease' in acquired) {
        try {
          return await this.#underLease(current, auth, options, acquired.lease, acquired.tookOver);
        } catch (err) {
          if (!(err instanceof LeaseLost)) throw err;
        }
      } else if (this.#now() > giveUpAt) {
        throw new KeygateError('token_endpoint_unavailable', {
          message: 'Another replica has held the refresh of this credential for too long.',
          retryAfter: this.#config.refresh.retryFailedAfterSeconds,
        });
      } else {
        // Another replica is refreshing: wait for its lease to go, then look at what it left.
        const wait = Math.min(250, Math.max(10, acquired.heldUntil - this.#now()));
        await new Promise((resolve) => setTimeout(resolve, wait + Math.random() * 50));
      }
    }
  }

  // Two Vault writes when it goes well: the lease taken, then the credential written with
  // check-and-set on the version read before the lease, which frees the lease.
  async #underLease(
    fresh: Credential,
    auth: AuthConfig,
    options: RefreshOptions,
    lease: Lease,
    tookOver: boolean,
  ): Promise<Credential> {
    const { tenant, integration, account } = fresh;
    // Released explicitly only when nothing was written (a write moves the version past the lease).
    let release = true;
    lease.keepAlive();
    try {
      let attempt = 1;
      let tokens: TokenSet;
      try {
        tokens = await requestWithRetries({
          // The tenant's own client, for a client-credentials credential stored with one.
          auth: authFor(auth, fresh.secret),
          grant: grantFor(auth, fresh),
          refresh: this.#config.refresh,
          now: this.#now,
          beforeAttempt: async (n) => {
            attempt = n;
            // The lease must outlive the request, or another replica could spend the same token.
            if (!(await lease.ensure(this.#leaseMargin()))) throw new LeaseLost();
          },
          onRetry: (n, delayMs, err) =>
            this.#emit('refresh-retry', {
              tenant,
              integration,
              account,
              reason: options.reason,
              attempt: n,
              delayMs,
              error: failureCode(err),
            }),
        });
      } catch (err) {
        if (err instanceof LeaseLost) throw err;
        if (tookOver && err instanceof TokenEndpointError && !err.transient) {
          // We took over a lapsed lease on this very version: its holder may be alive but
          // stalled, having spent the refresh token and not yet written the new pair. Its
          // write is still welcome (see persist.ts); so this refusal is not believed yet.
          return this.#refusedAfterTakeover(fresh, options, attempt, err);
        }
        release = false;
        return await this.#fail(fresh, options, attempt, err, () => (release = true));
      }
      const { next, write } = refreshed(fresh, tokens, new Date(this.#now()).toISOString());
      const base = { tenant, integration, account, reason: options.reason, attempt };
      try {
        const persisted = await persistRefreshed(this.#store, fresh, write);
        release = false;
        if ('superseded' in persisted) {
          // Replaced under our lease (an operator stored new tokens): theirs wins.
          this.#logger.warn('credential changed during refresh; keeping the stored one', {
            event: 'refresh_superseded',
            tenant,
            integration,
            account,
          });
          this.#store.invalidate(fresh);
          return await this.#store.read(fresh);
        }
        const { written } = persisted;
        this.#emit('refresh-success', { ...base, expiresAt: written.expiresAt ?? '', persisted: true });
        return written;
      } catch (err) {
        if (isKeygateError(err, 'credential_not_found')) throw err;
        // Vault would not take it: serve it from memory and keep trying (and the lease).
        this.#store.prime(next);
        this.#pending.start({ credential: next, base: fresh, write, lease, ...base });
        release = false;
        return next;
      }
    } finally {
      lease.stopKeepAlive();
      if (release) await lease.release();
    }
  }

  #refusedAfterTakeover(fresh: Credential, options: RefreshOptions, attempt: number, err: unknown): never {
    const { tenant, integration, account } = fresh;
    const error = failureCode(err);
    this.#logger.warn('refresh refused after taking over a lapsed lease; not marking it yet', {
      event: 'refresh_refused_after_takeover',
      tenant,
      integration,
      account,
      error,
    });
    this.#emit('refresh-failed', {
      tenant,
      integration,
      account,
      reason: options.reason,
      attempt,
      error,
      permanent: false,
    });
    throw new KeygateError('token_endpoint_unavailable', {
      retryAfter: this.#config.refresh.retryFailedAfterSeconds,
    });
  }

  async #fail(
    current: Credential,
    options: RefreshOptions,
    attempt: number,
    err: unknown,
    notWritten: () => void,
  ): Promise<Credential> {
    const { tenant, integration, account } = current;
    const base = { tenant, integration, account, reason: options.reason, attempt, error: failureCode(err) };
    const permanent = err instanceof TokenEndpointError && !err.transient;
    if (!(err instanceof TokenEndpointError)) notWritten();
    else {
      try {
        await this.#store.setStatus(current, permanent ? 'needs_reauth' : 'refresh_failed', {
          cas: current.version,
          error: base.error,
        });
      } catch (statusErr) {
        notWritten();
        if (isKeygateError(statusErr, 'conflict')) {
          // Someone wrote since we read: a stalled holder's pair, or new tokens. Theirs, not our refusal.
          const latest = await this.#store.read(current);
          const { accessToken, refreshToken } = latest.secret;
          const replaced =
            accessToken !== current.secret.accessToken || refreshToken !== current.secret.refreshToken;
          if (latest.status === 'active' && replaced) return latest;
        }
        this.#logger.warn('could not record the refresh failure in Vault', {
          event: 'refresh_status_write_failed',
          tenant,
          integration,
          account,
          errorCode: isKeygateError(statusErr) ? statusErr.code : 'unknown',
        });
      }
    }
    this.#logger.warn('credential refresh failed', { event: 'refresh_failed', permanent, ...base });
    this.#emit('refresh-failed', { ...base, permanent });
    if (permanent) throw needsReauth();
    if (err instanceof TokenEndpointError) {
      throw new KeygateError('token_endpoint_unavailable', {
        retryAfter: this.#config.refresh.retryFailedAfterSeconds,
      });
    }
    throw err;
  }

  // Good enough without calling the provider: refreshed since we were asked, a different
  // access token than the refused one, or (scheduled) not yet due.
  #satisfied(credential: Credential, options: RefreshOptions, startedAt: number): boolean {
    if (credential.status === 'needs_reauth') return false;
    const refreshedAt = credential.lastRefreshedAt ? Date.parse(credential.lastRefreshedAt) : 0;
    if (refreshedAt >= startedAt) return true;
    if (options.reason === 'unauthorized' && options.staleAccessToken !== undefined) {
      return credential.secret.accessToken !== options.staleAccessToken;
    }
    if (options.reason === 'scheduled' && credential.expiresAt) {
      // The scheduler's own rule, so a fresh short-lived token is not renewed early either.
      const now = this.#now();
      return (dueTime(credential, this.#config.refresh.bufferSeconds * 1000, now) ?? now) > now;
    }
    return false;
  }

  #leaseMargin(): number {
    return this.#config.refresh.tokenTimeoutMs + this.#config.vault.timeoutMs;
  }

  #emit(name: RefreshEventName, event: Omit<RefreshEvent, 'time'>): void {
    this.emit(name, { ...event, time: new Date(this.#now()).toISOString() } satisfies RefreshEvent);
  }
}

function needsReauth(): KeygateError {
  return new KeygateError('credential_refresh_failed');
}
