import type { IncomingHttpHeaders } from 'node:http';
import { authenticateThrottled, type AuthThrottle } from '../keys/auth-throttle.ts';
import type { CallerKeys } from '../keys/key-store.ts';
import type { Caller, CallerAuthenticator } from './caller.ts';

/** Callers by Keygate key, behind the throttle that counts failed authentications per address. */
export class KeyCallers implements CallerAuthenticator {
  readonly #keys: CallerKeys;
  readonly #throttle: AuthThrottle;

  constructor(keys: CallerKeys, throttle: AuthThrottle) {
    this.#keys = keys;
    this.#throttle = throttle;
  }

  async authenticate(
    headers: IncomingHttpHeaders,
    address: string,
    tenant: string,
    integration: string,
  ): Promise<Caller> {
    const key = await authenticateThrottled(
      this.#throttle,
      address,
      this.#keys,
      headers,
      tenant,
      integration,
    );
    return { kind: 'key', id: key.id, limits: key.limits };
  }
}
