import type { Config } from '../config/schema.ts';
import { dueTime } from '../credentials/due-time.ts';
import type { Trackable } from './trackable.ts';

/**
 * The schedule's rule for one credential, from what is stored about it and the
 * configuration alone, so the schedule, the shard gate's look after the grace and a
 * listing's comparison all agree: whether it is renewed at all, and when.
 */
export class DueRule {
  readonly #integrations: Readonly<Config['integrations']>;
  readonly #bufferMs: number;
  readonly #now: () => number;

  constructor(config: Readonly<Config>, now: () => number) {
    this.#integrations = config.integrations;
    this.#bufferMs = config.refresh.bufferSeconds * 1000;
    this.#now = now;
  }

  /**
   * False for API keys, and for stored credentials of integrations this configuration does
   * not have (or not as OAuth): those stay put.
   */
  schedules(credential: Pick<Trackable, 'authType' | 'integration'>): boolean {
    if (credential.authType === 'api_key') return false;
    const type = this.#integrations[credential.integration]?.auth.type;
    return type === 'oauth2' || type === 'oauth2_client_credentials';
  }

  /** When the refresh is due (ms since the epoch; see dueTime); undefined when it is not renewed. */
  dueOf(credential: Trackable): number | undefined {
    return dueTime(credential, this.#bufferMs, this.#now());
  }
}
