import { refKey } from '../credentials/ref.ts';
import type { CredentialListing } from '../credentials/types.ts';
import { isKeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { RefreshScheduler } from './scheduler.ts';

export interface ResyncDeps {
  scheduler: Pick<RefreshScheduler, 'reflects' | 'applyListing' | 'known' | 'cancelListed' | 'watchTouched'>;
  source: { listAll(): Promise<CredentialListing[]> };
  intervalMs: number;
  logger: Logger;
}

/**
 * Re-lists the stored credentials now and then, so that each replica follows
 * credentials stored, replaced (a needs_reauth one made active again) or deleted
 * through another replica. Only what changed is rescheduled.
 */
export class ScheduleResync {
  readonly #deps: ResyncDeps;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(deps: ResyncDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#deps.intervalMs <= 0 || this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.runOnce().finally(() => this.start());
    }, this.#deps.intervalMs);
    this.#timer.unref();
  }

  async runOnce(): Promise<{ changed: number; removed: number }> {
    const { scheduler, source, logger } = this.#deps;
    const touched = scheduler.watchTouched();
    let listings: CredentialListing[];
    try {
      listings = await source.listAll();
    } catch (err) {
      touched.stop();
      logger.warn('cannot list credentials to resync the refresh schedule', {
        event: 'refresh_resync_failed',
        errorCode: isKeygateError(err) ? err.code : 'unknown',
      });
      return { changed: 0, removed: 0 };
    }
    const seen = new Set<string>();
    let changed = 0;
    let removed = 0;
    try {
      for (const listing of listings) {
        const key = refKey(listing);
        seen.add(key);
        // Changed since the listing read it (a fleet change, a refresh): the newer news stands.
        if (touched.keys.has(key) || scheduler.reflects(listing)) continue;
        scheduler.applyListing(listing);
        changed += 1;
      }
      for (const ref of [...scheduler.known()]) {
        const key = refKey(ref);
        if (seen.has(key) || touched.keys.has(key)) continue;
        if (scheduler.cancelListed(ref)) removed += 1;
      }
    } finally {
      touched.stop();
    }
    if (changed + removed > 0) {
      logger.info('refresh schedule resynced', { event: 'refresh_resynced', changed, removed });
    }
    return { changed, removed };
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
