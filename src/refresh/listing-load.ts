import { refKey } from '../credentials/ref.ts';
import type { CredentialListing } from '../credentials/types.ts';
import { isKeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { TouchedKeys } from './listing-guard.ts';
import type { Trackable } from './trackable.ts';

const START_RETRY_MS = 5000;
const LOAD_SLICE = 10_000;

/** What the start-up load needs of the schedule (RefreshScheduler). */
export interface LoadTarget {
  /** See ListingGuard: a listing read before fresher news must not undo it. */
  watchTouched(): TouchedKeys;
  /** Schedules what the listing says, as a listing (not as fresher news). */
  applyListing(listing: Trackable): void;
  /** Credentials in the schedule. */
  readonly size: number;
}

export interface ListingLoadDeps {
  schedule: LoadTarget;
  /** Lists every stored credential from metadata. */
  source: { listAll(): Promise<CredentialListing[]> };
  logger: Logger;
}

/**
 * The start-up load of the schedule: one listing of every stored credential (metadata only),
 * applied in slices, and retried in the background while Vault cannot list.
 */
export class ListingLoad {
  readonly #deps: ListingLoadDeps;
  #loading = false;
  #stopped = false;

  constructor(deps: ListingLoadDeps) {
    this.#deps = deps;
  }

  /**
   * True while a listing is being applied: the load is one summary line, not a
   * refresh-scheduled event per credential.
   */
  get loading(): boolean {
    return this.#loading;
  }

  /** Lists every stored credential and schedules it; resolves to how many were listed. */
  async run(): Promise<number> {
    const { schedule, source, logger } = this.#deps;
    const touched = schedule.watchTouched();
    let listings: CredentialListing[];
    try {
      listings = await source.listAll();
    } catch (err) {
      touched.stop();
      throw err;
    }
    // It yields now and then: a million credentials must not hold the event loop for seconds.
    this.#loading = true;
    try {
      for (let i = 0; i < listings.length; i += 1) {
        const listing = listings[i] as CredentialListing;
        if (!touched.keys.has(refKey(listing))) schedule.applyListing(listing);
        if (i % LOAD_SLICE === LOAD_SLICE - 1) await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#loading = false;
      touched.stop();
    }
    logger.info('refresh schedule loaded', {
      event: 'refresh_schedule_loaded',
      credentials: listings.length,
      scheduled: schedule.size,
    });
    return listings.length;
  }

  /** run(), retried in the background while Vault cannot list (down at boot). */
  runInBackground(): void {
    this.run().catch((err: unknown) => {
      if (this.#stopped) return;
      this.#deps.logger.warn('cannot list credentials to schedule; retrying', {
        event: 'refresh_schedule_load_failed',
        errorCode: isKeygateError(err) ? err.code : 'unknown',
      });
      setTimeout(() => this.runInBackground(), START_RETRY_MS).unref();
    });
  }

  /** The schedule stopped: no further retry. */
  stop(): void {
    this.#stopped = true;
  }
}
