import { randomBytes } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { KeygateError, isKeygateError } from '../errors.ts';
import { digest, flowCookieName, matchesDigest, readCookie } from '../http/cookies.ts';
import { subjectOf } from '../identity/subject.ts';
import type { KvStore } from '../vault/kv.ts';
import type { TransitKeys } from '../vault/transit.ts';
import type { ConnectLink, ConnectLinks } from './links.ts';
import { SignInError, type OidcClient } from './oidc-client.ts';

/**
 * A sign-in in progress for one link, in KV at `reauth-signin/<link id>` (a new start replaces
 * it): digests of the state and of the browser's cookie secret, the nonce and PKCE verifier
 * encrypted with the tenant's Transit key (context: this link), so any replica can finish it.
 */
interface PendingSignIn {
  state: string;
  browser: string;
  secrets: string;
  redirectUri: string;
  expiresAt: string;
  used?: boolean;
}

/** What the browser is given at the start: where to go, and the cookie that binds the sign-in to it. */
export interface StartedSignIn {
  authorizationUrl: string;
  cookie: { name: string; value: string; maxAge: number };
}

const STATE = /^[A-Za-z0-9_-]{20,128}$/;
const COOKIE_VALUE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const COOKIE_PREFIX = 'keygate-signin';

const recordPath = (linkId: string) => `reauth-signin/${linkId}`;
const transitContext = (link: ConnectLink) => `reauth-signin/${link.id}`;
const invalid = () => new KeygateError('connect_signin_invalid');

/** The name of the cookie a sign-in with this state is bound by (so its callback can clear it). */
export const signInCookieName = (state: string) => flowCookieName(COOKIE_PREFIX, state);

/**
 * `reauth.identity.oidc`: a link made for a user is spent only after the browser signed in
 * with the issuer as that user. `start` stores the sign-in and answers the authorization URL;
 * `finish` takes the callback, claims the sign-in with check-and-set (a replayed callback
 * fails), checks that the same browser came back, verifies the ID token, and spends the link
 * only when `sub` (hashed) is the link's subject. A wrong user spends nothing.
 */
export class LinkSignIn {
  readonly #kv: KvStore;
  readonly #transit: TransitKeys;
  readonly #links: ConnectLinks;
  readonly #client: OidcClient;
  readonly #ttlMs: number;

  constructor(deps: {
    kv: KvStore;
    transit: TransitKeys;
    links: ConnectLinks;
    client: OidcClient;
    ttlSeconds: number;
  }) {
    this.#kv = deps.kv;
    this.#transit = deps.transit;
    this.#links = deps.links;
    this.#client = deps.client;
    this.#ttlMs = deps.ttlSeconds * 1000;
  }

  async start(link: ConnectLink, redirectUri: string): Promise<StartedSignIn> {
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const verifier = oauth.generateRandomCodeVerifier();
    const browser = randomBytes(32).toString('base64url');
    // Asked first: an issuer that cannot be reached leaves nothing behind.
    const authorizationUrl = await this.#client.authorizationUrl({ state, nonce, verifier, redirectUri });
    const expiresAt = Math.min(Date.now() + this.#ttlMs, Date.parse(link.expiresAt));
    const pending: PendingSignIn = {
      state: digest(state),
      browser: digest(browser),
      secrets: await this.#transit.encrypt(
        link.tenant,
        transitContext(link),
        JSON.stringify({ nonce, verifier }),
      ),
      redirectUri,
      expiresAt: new Date(expiresAt).toISOString(),
    };
    await this.#kv.write(recordPath(link.id), { ...pending });
    return {
      authorizationUrl,
      cookie: {
        name: signInCookieName(state),
        value: `${link.id}.${browser}`,
        maxAge: Math.ceil((expiresAt - Date.now()) / 1000),
      },
    };
  }

  /**
   * The callback: the spent link, or a KeygateError (`connect_signin_invalid`,
   * `connect_link_invalid`, `connect_identity_invalid` as a SignInError with its reason,
   * `identity_provider_unavailable`). `found` hears of the link once the sign-in is known.
   */
  async finish(
    parameters: URLSearchParams,
    cookieHeader: string | undefined,
    found: (link: ConnectLink) => void = () => {},
  ): Promise<ConnectLink> {
    const state = parameters.get('state') ?? '';
    if (!STATE.test(state)) throw invalid();
    const bound = COOKIE_VALUE.exec(readCookie(cookieHeader, signInCookieName(state)) ?? '');
    if (!bound) throw invalid();
    const [, linkId = '', browser] = bound;
    const record = await this.#kv.read<PendingSignIn>(recordPath(linkId));
    const pending = record?.data;
    if (
      !record ||
      !pending ||
      pending.used ||
      Date.parse(pending.expiresAt) <= Date.now() ||
      !matchesDigest(state, pending.state) ||
      !matchesDigest(browser, pending.browser)
    ) {
      throw invalid();
    }
    try {
      await this.#kv.write(recordPath(linkId), { ...pending, used: true }, { cas: record.version });
    } catch (err) {
      if (isKeygateError(err, 'conflict')) throw invalid();
      throw err;
    }
    try {
      const link = await this.#links.get(linkId);
      found(link);
      const { nonce, verifier } = JSON.parse(
        await this.#transit.decrypt(link.tenant, transitContext(link), pending.secrets),
      ) as { nonce: string; verifier: string };
      const sub = await this.#client.subject(parameters, {
        state,
        nonce,
        verifier,
        redirectUri: pending.redirectUri,
      });
      const subject = subjectOf(sub);
      const sameUser = (live: ConnectLink) => {
        if (live.subject !== subject) throw new SignInError('connect_identity_invalid', 'another user');
      };
      sameUser(link);
      return await this.#links.redeemFor(linkId, sameUser);
    } finally {
      await this.#kv.destroy(recordPath(linkId)).catch(() => {});
    }
  }
}
