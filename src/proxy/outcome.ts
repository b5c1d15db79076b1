import type { UpstreamFailure } from './upstream-errors.ts';

/** How one attempt ended: answered, or to be tried again after a wait or a refresh. */
export type Outcome =
  | { type: 'sent' }
  | { type: 'retry'; delayMs: number; reason: 'rate_limited' | 'server_error' }
  | { type: 'refresh' }
  /** A 401 after the refresh-and-replay: the tenant must connect again (see src/reauth). */
  | { type: 'reauth' }
  | { type: 'failed'; failure: UpstreamFailure };
