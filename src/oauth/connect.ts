import * as oauth from 'oauth4webapi';
import type { Config } from '../config/schema.ts';
import { transitContext } from '../credentials/accounts.ts';
import { assertRef } from '../credentials/names.ts';
import { credentialRef, type CredentialRef } from '../credentials/ref.ts';
import type { CredentialStore } from '../credentials/store.ts';
import type { CredentialMetadata } from '../credentials/types.ts';
import { KeygateError, isKeygateError } from '../errors.ts';
import { digest, matchesDigest } from '../http/cookies.ts';
import type { RefreshScheduler } from '../refresh/scheduler.ts';
import type { KvStore } from '../vault/kv.ts';
import type { TransitKeys } from '../vault/transit.ts';
import { checkReturnTo } from './return-to.ts';
import { TokenEndpointError, endpoints, requestTokens } from './token-client.ts';

/** A connect flow in progress, kept in KV under `oauth-state/<state>` until its callback. */
interface PendingConnect {
  tenant: string;
  integration: string;
  /** Absent in a flow started before accounts existed: `default`. */
  account?: string;
  /** The PKCE verifier, encrypted with the tenant's Transit key like any credential. */
  verifierCiphertext: string;
  redirectUri: string;
  scopes: string[];
  expiresAt: string;
  /** Where the callback sends the browser (checked against oauth.allowedReturnUrls at start). */
  returnTo?: string;
  /** Digest of the secret the starting browser holds in a cookie (flows started from a connect page). */
  browser?: string;
  used?: boolean;
}

/** Which credential a callback was for, once its state is known. */
export interface FlowRef extends CredentialRef {
  returnTo?: string;
}

/**
 * How a callback ended. A failure with `flow` is one whose state was found (denied consent,
 * a refused code, an iss mismatch, an expired state): it can be reported to that flow.
 */
export type CallbackOutcome =
  | { ok: true; flow: FlowRef; metadata: CredentialMetadata }
  | { ok: false; flow?: FlowRef; error: KeygateError };

export interface StartOptions {
  scopes?: string[] | undefined;
  returnTo?: string | undefined;
  fallbackCallbackUrl: string;
  /** A secret the browser keeps in a cookie: the callback then must come from that browser. */
  browser?: string | undefined;
}

const STATE = /^[A-Za-z0-9_-]{20,128}$/;

export interface ConnectDeps {
  config: Readonly<Config>;
  kv: KvStore;
  transit: TransitKeys;
  store: CredentialStore;
  schedule?: Pick<RefreshScheduler, 'track'> | undefined;
}

/**
 * The OAuth authorization-code flow with PKCE (S256): `start` stores a single-use state
 * and answers with the provider's authorization URL; `complete` takes the callback,
 * claims the state with check-and-set (so a replayed callback fails), exchanges the
 * code through oauth4webapi and stores the tokens like `PUT .../credentials/...`.
 */
export class ConnectFlow {
  readonly #deps: ConnectDeps;

  constructor(deps: ConnectDeps) {
    this.#deps = deps;
  }

  async start(
    ref: CredentialRef,
    options: StartOptions,
  ): Promise<{ authorizationUrl: string; state: string; expiresAt: string }> {
    assertRef(ref);
    const { config, kv, transit } = this.#deps;
    const { tenant, integration, account } = ref;
    const auth = config.integrations[integration]?.auth;
    if (!auth) throw new KeygateError('unknown_integration');
    if (auth.type !== 'oauth2' || !auth.authorizationUrl || !auth.clientId) {
      throw new KeygateError('connect_unsupported');
    }
    // Checked before anything is encrypted or written: a refused returnTo leaves no trace.
    const returnTo =
      options.returnTo === undefined
        ? undefined
        : checkReturnTo(options.returnTo, config.oauth.allowedReturnUrls);
    const state = oauth.generateRandomState();
    const verifier = oauth.generateRandomCodeVerifier();
    const redirectUri = config.oauth.callbackUrl ?? options.fallbackCallbackUrl;
    const scopes = options.scopes ?? auth.scopes ?? [];
    const expiresAt = new Date(Date.now() + config.oauth.stateTtlSeconds * 1000).toISOString();
    const pending: PendingConnect = {
      tenant,
      integration,
      account,
      verifierCiphertext: await transit.encrypt(tenant, transitContext(ref), verifier),
      redirectUri,
      scopes,
      expiresAt,
      ...(returnTo === undefined ? {} : { returnTo }),
      ...(options.browser === undefined ? {} : { browser: digest(options.browser) }),
    };
    await kv.write(`oauth-state/${state}`, { ...pending }, { cas: 0 });
    const url = new URL(auth.authorizationUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', auth.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    if (scopes.length > 0) url.searchParams.set('scope', scopes.join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    if (auth.resource) url.searchParams.set('resource', auth.resource);
    return { authorizationUrl: url.href, state, expiresAt };
  }

  /**
   * Handles `GET /oauth/callback?code&state` (or `?error&state`): never throws a Keygate error,
   * it answers how the flow ended, with the flow when its state was found (and claimed: a
   * callback refused before that, a malformed one or a bad state, names no flow).
   */
  async complete(parameters: URLSearchParams, browser?: string): Promise<CallbackOutcome> {
    const state = parameters.get('state') ?? '';
    if (!STATE.test(state)) return { ok: false, error: new KeygateError('oauth_state_invalid') };
    // Neither a code nor an error: not the provider's answer (a truncated URL, a probe). Refused
    // before the state is read, so the flow is not spent and the real callback still works.
    if (!parameters.get('code') && !parameters.get('error')) {
      return { ok: false, error: new KeygateError('oauth_callback_malformed') };
    }
    let flow: FlowRef | undefined;
    try {
      const pending = await this.#claim(state, browser, (found) => (flow = found));
      const metadata = await this.#exchange(pending, state, parameters);
      return { ok: true, flow: flow as FlowRef, metadata };
    } catch (err) {
      if (!isKeygateError(err)) throw err;
      return { ok: false, error: err, ...(flow ? { flow } : {}) };
    } finally {
      if (flow) await this.#deps.kv.destroy(`oauth-state/${state}`).catch(() => {});
    }
  }

  async #exchange(
    pending: PendingConnect,
    state: string,
    parameters: URLSearchParams,
  ): Promise<CredentialMetadata> {
    const { config, transit, store, schedule } = this.#deps;
    // A flow started before accounts existed names none: the default account.
    const ref = credentialRef(pending.tenant, pending.integration, pending.account);
    const auth = config.integrations[ref.integration]?.auth;
    if (!auth || auth.type !== 'oauth2') throw new KeygateError('connect_unsupported');
    const { as, client } = endpoints(auth);
    let callback: URLSearchParams;
    try {
      callback = oauth.validateAuthResponse(as, client, parameters, state);
    } catch (err) {
      // `error=access_denied` and the like; the provider's description is never echoed.
      throw new KeygateError(issuerRefused(err) ? 'oauth_issuer_mismatch' : 'oauth_denied');
    }
    const codeVerifier = await transit.decrypt(ref.tenant, transitContext(ref), pending.verifierCiphertext);
    const tokens = await requestTokens(
      auth,
      { type: 'authorization_code', callback, redirectUri: pending.redirectUri, codeVerifier },
      {
        timeoutMs: config.refresh.tokenTimeoutMs,
        defaultExpiresInSeconds: config.refresh.defaultExpiresInSeconds,
        clockSkewSeconds: config.refresh.clockSkewSeconds,
      },
    ).catch((err: unknown) => {
      if (err instanceof TokenEndpointError && !err.transient) throw new KeygateError('oauth_denied');
      throw new KeygateError('token_endpoint_unavailable', { cause: err });
    });
    const {
      secret: _secret,
      version: _version,
      ...metadata
    } = await store.put(ref, {
      authType: 'oauth2',
      secret: {
        accessToken: tokens.accessToken,
        tokenType: tokens.tokenType,
        ...(tokens.refreshToken === undefined ? {} : { refreshToken: tokens.refreshToken }),
      },
      expiresAt: tokens.expiresAt,
      scopes: tokens.scopes ?? pending.scopes,
      lastRefreshedAt: new Date().toISOString(),
    });
    schedule?.track(metadata);
    return metadata;
  }

  // Single use: the first callback marks the state used with check-and-set; any other fails.
  // `found` hears of the flow as soon as its record is read, even when it has expired.
  // A flow bound to a browser is not even reported to another one (a forwarded provider URL):
  // it stays for the browser that started it.
  async #claim(
    state: string,
    browser: string | undefined,
    found: (flow: FlowRef) => void,
  ): Promise<PendingConnect> {
    const { kv } = this.#deps;
    const record = await kv.read<PendingConnect>(`oauth-state/${state}`);
    if (!record || record.data.used) throw new KeygateError('oauth_state_invalid');
    if (record.data.browser !== undefined && !matchesDigest(browser, record.data.browser)) {
      throw new KeygateError('oauth_state_invalid');
    }
    const { tenant, integration, account, returnTo } = record.data;
    found({
      ...credentialRef(tenant, integration, account),
      ...(returnTo === undefined ? {} : { returnTo }),
    });
    if (Date.parse(record.data.expiresAt) <= Date.now()) throw new KeygateError('oauth_state_invalid');
    try {
      await kv.write(`oauth-state/${state}`, { ...record.data, used: true }, { cas: record.version });
    } catch (err) {
      if (isKeygateError(err, 'conflict')) throw new KeygateError('oauth_state_invalid');
      throw err;
    }
    return record.data;
  }
}

// oauth4webapi checks `iss` (RFC 9207) before anything else and says so in its message.
function issuerRefused(err: unknown): boolean {
  return (
    err instanceof oauth.OperationProcessingError &&
    err.code === oauth.INVALID_RESPONSE &&
    /"iss"/.test(err.message)
  );
}
