import type { Config } from '../config/schema.ts';
import { refKey, type CredentialRef } from '../credentials/ref.ts';
import type { Credential, CredentialWrite } from '../credentials/types.ts';
import { isKeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { RefreshEvent, RefreshEventName, RefreshReason } from './events.ts';
import type { Lease } from './lease.ts';
import { persistRefreshed } from './persist.ts';
import type { RefreshStore } from './persist.ts';

export interface PendingWrite {
  credential: Credential;
  write: CredentialWrite;
  /** The credential the refresh started from; the write is check-and-set on its version. */
  base: Credential;
  lease: Lease;
  reason: RefreshReason;
  attempt: number;
}

export interface PendingWritesDeps {
  store: RefreshStore;
  refresh: Config['refresh'];
  logger: Logger;
  emit: (name: RefreshEventName, event: Omit<RefreshEvent, 'time'>) => void;
}

/**
 * Refreshed token pairs that Vault would not take yet. A rotated refresh token
 * exists nowhere else, so it is never dropped: the write is retried from memory
 * with backoff (doubling up to refresh.maxBackoffMs) for as long as the process
 * lives, while the credential keeps serving from the cache (primed again on every
 * round, so the cache TTL never expires it). The lease stays held (and renewed)
 * until the write lands, so other replicas wait instead of using the old token.
 */
export class PendingWrites {
  readonly #deps: PendingWritesDeps;
  readonly #entries = new Map<string, Credential>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(deps: PendingWritesDeps) {
    this.#deps = deps;
  }

  /** The refreshed credential still waiting to be written, if any. */
  get(ref: CredentialRef): Credential | undefined {
    return this.#entries.get(refKey(ref));
  }

  get size(): number {
    return this.#entries.size;
  }

  start(pending: PendingWrite): void {
    this.#entries.set(refKey(pending.credential), pending.credential);
    void this.#loop(pending);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#entries.size > 0) {
      this.#deps.logger.error('refreshed credentials not yet written to Vault at shutdown', {
        event: 'refresh_unpersisted_at_shutdown',
        credentials: [...this.#entries.keys()],
      });
    }
  }

  async #loop(pending: PendingWrite): Promise<void> {
    const { store, refresh, logger, emit } = this.#deps;
    const { credential } = pending;
    const { tenant, integration, account } = credential;
    const key = refKey(credential);
    const base = { tenant, integration, account, reason: pending.reason, attempt: pending.attempt };
    let delay = refresh.minBackoffMs;
    let failures = 1; // the refresher's own write already failed once
    let reported = false;
    const report = (error: string) => {
      if (reported) return;
      reported = true;
      logger.error('refreshed credential cannot be written to Vault; serving it from memory', {
        event: 'refresh_persist_failed',
        tenant,
        integration,
        account,
        errorCode: error,
      });
      emit('refresh-failed', { ...base, permanent: false, persisted: false, error });
    };
    while (!this.#closed) {
      store.prime(pending.credential);
      if (failures > refresh.retries) report('vault_unavailable');
      await this.#sleep(delay);
      if (this.#closed) return;
      try {
        // Keep other replicas off the old refresh token while Vault is away; ignore a lost lease.
        await pending.lease.ensure(refresh.tokenTimeoutMs).catch(() => false);
        const persisted = await persistRefreshed(store, pending.base, pending.write);
        this.#entries.delete(key);
        if ('superseded' in persisted) {
          // Replaced meanwhile (an operator stored new tokens): theirs wins.
          store.invalidate(credential);
          report('conflict');
          return;
        }
        // The write moved the version past the lease: no release needed.
        logger.info('refreshed credential written to Vault after retries', {
          event: 'refresh_persisted_late',
          tenant,
          integration,
          account,
          failures,
        });
        emit('refresh-success', { ...base, expiresAt: persisted.written.expiresAt ?? '', persisted: true });
        return;
      } catch (err) {
        if (isKeygateError(err, 'credential_not_found')) {
          // Deleted meanwhile: nothing to write, and nobody to serve.
          this.#entries.delete(key);
          store.invalidate(credential);
          await pending.lease.release();
          report('conflict');
          return;
        }
        failures += 1;
        delay = Math.min(delay * 2, refresh.maxBackoffMs);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }
}
