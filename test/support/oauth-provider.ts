import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local OAuth token endpoint that behaves like the strict real ones: refresh
 * tokens rotate on every use, and reusing an old one revokes the whole family
 * (answering `invalid_grant`). Failures can be injected per request: 5xx/429 with
 * Retry-After, slow answers, dropped connections. Every call is counted. Under
 * `/api/*` it is also a resource server that accepts only live access tokens. Its consent
 * screen sends `iss` back (RFC 9207) and honours RFC 8707 `resource` like the strict ones: a
 * code granted for a resource is exchanged only with that resource (else `invalid_target`).
 */

export type AuthMethod = 'client_secret_basic' | 'client_secret_post';

/** What the next token requests meet, in order; `undefined` entries mean "answer normally". */
export type Fault =
  | { status: number; retryAfter?: string; body?: Record<string, unknown> }
  | { drop: true }
  | { delayMs: number };

export interface ProviderOptions {
  clientId?: string;
  clientSecret?: string;
  /** The client authentication the endpoint insists on. */
  authMethod?: AuthMethod;
  /** `expires_in` of issued access tokens; null leaves it out of the answer. */
  expiresIn?: number | null;
  /** false: answer a refresh without a new refresh token (the old one stays valid). */
  rotate?: boolean;
  /** false: the consent screen sends no `iss` (RFC 9207) back; default true, with `url` as issuer. */
  sendIss?: boolean;
}

interface Family {
  id: string;
  current: string;
  used: Set<string>;
  accessToken: string;
  revoked: boolean;
  refreshedAt: number[];
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

export interface OAuthProvider {
  url: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  options: Required<ProviderOptions>;
  /** Mints a first token pair for a new family (what a tenant's consent would give). */
  issue(familyId: string): TokenPair;
  /** The family's current pair; undefined when revoked or unknown. */
  current(familyId: string): TokenPair | undefined;
  isRevoked(familyId: string): boolean;
  /** Times (ms) at which each successful refresh of the family was answered. */
  refreshTimes(familyId: string): number[];
  /** True for the current access token of a live family (for fake upstreams). */
  isValidAccessToken(token: string): boolean;
  /** Queue faults for the next requests. */
  inject(...faults: Fault[]): void;
  /** Holds every token request until the returned function is called. */
  hold(): () => void;
  /** Runs after a refresh was granted and before it is answered (e.g. to break Vault). */
  beforeAnswer: ((familyId: string) => Promise<void> | void) | undefined;
  /** Token endpoint calls by kind; apiCalls counts the resource server under /api. */
  counts: {
    requests: number;
    refreshes: number;
    invalidGrant: number;
    invalidClient: number;
    faults: number;
    apiCalls: number;
  };
  /** The next authorization answers with `error=access_denied` (and this error_description) instead of a code. */
  denyNextAuthorization(description?: string): void;
  /** The next authorization sends this `iss` (a mix-up attack's), or none for null. */
  forgeNextIss(iss: string | null): void;
  /** The `resource` (RFC 8707) of each authorization and token request, in order; null when absent. */
  resources: { authorize: Array<string | null>; token: Array<string | null> };
  /** Every token the provider ever issued, for canary hunting in logs and events. */
  issuedTokens(): string[];
  /** `${url}/revoke`: RFC 7009 token revocation with the same client authentication. */
  revocationUrl: string;
  /** What the revocation endpoint was asked to revoke, in order (authenticated requests only). */
  revocations: Array<{ token: string; tokenTypeHint: string | null }>;
  /** The next `count` revocation requests answer `status` (e.g. 503) without revoking, with `body` (default temporarily_unavailable). */
  failRevocations(status: number, count?: number, body?: Record<string, unknown>): void;
  stop(): Promise<void>;
}

export async function startOAuthProvider(opts: ProviderOptions = {}): Promise<OAuthProvider> {
  const options: Required<ProviderOptions> = {
    clientId: opts.clientId ?? 'keygate-test-client',
    clientSecret: opts.clientSecret ?? `client-secret-${randomBytes(8).toString('hex')}`,
    authMethod: opts.authMethod ?? 'client_secret_basic',
    expiresIn: opts.expiresIn === undefined ? 3600 : opts.expiresIn,
    rotate: opts.rotate ?? true,
    sendIss: opts.sendIss ?? true,
  };
  const families = new Map<string, Family>();
  const byRefresh = new Map<string, Family>();
  const validAccess = new Set<string>();
  const issued: string[] = [];
  const faults: Fault[] = [];
  let gate: Promise<void> | undefined;
  // Authorization codes (single use) with the PKCE challenge and redirect URI they were issued for.
  const codes = new Map<string, { challenge: string; redirectUri: string; resource: string | null }>();
  let denyNext: { description?: string | undefined } | undefined;
  let forgedIss: { iss: string | null } | undefined;
  const resources: OAuthProvider['resources'] = { authorize: [], token: [] };
  const counts = { requests: 0, refreshes: 0, invalidGrant: 0, invalidClient: 0, faults: 0, apiCalls: 0 };
  const revocations: Array<{ token: string; tokenTypeHint: string | null }> = [];
  const revocationFaults: Array<{ status: number; body: Record<string, unknown> }> = [];

  const mint = (kind: 'at' | 'rt', family: string) => {
    const token = `${kind}-${family}-${randomBytes(12).toString('hex')}`;
    issued.push(token);
    return token;
  };
  const grantAccess = (family: Family) => {
    validAccess.delete(family.accessToken);
    family.accessToken = mint('at', family.id);
    validAccess.add(family.accessToken);
  };

  const provider: OAuthProvider = {
    url: '',
    tokenUrl: '',
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    options,
    beforeAnswer: undefined,
    counts,
    issue(familyId) {
      const family: Family = {
        id: familyId,
        current: mint('rt', familyId),
        used: new Set(),
        accessToken: '',
        revoked: false,
        refreshedAt: [],
      };
      grantAccess(family);
      families.set(familyId, family);
      byRefresh.set(family.current, family);
      return { accessToken: family.accessToken, refreshToken: family.current };
    },
    current(familyId) {
      const family = families.get(familyId);
      if (!family || family.revoked) return undefined;
      return { accessToken: family.accessToken, refreshToken: family.current };
    },
    isRevoked: (familyId) => families.get(familyId)?.revoked ?? false,
    refreshTimes: (familyId) => [...(families.get(familyId)?.refreshedAt ?? [])],
    isValidAccessToken: (token) => validAccess.has(token),
    inject: (...more) => void faults.push(...more),
    hold() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    denyNextAuthorization: (description) => void (denyNext = { description }),
    forgeNextIss: (iss) => void (forgedIss = { iss }),
    resources,
    issuedTokens: () => [...issued],
    revocationUrl: '',
    revocations,
    failRevocations: (status, count = 1, body = { error: 'temporarily_unavailable' }) =>
      void revocationFaults.push(...Array.from({ length: count }, () => ({ status, body }))),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { error: 'server_error' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (req.url?.startsWith('/api/')) {
      // A resource server: 200 for a live access token, 401 otherwise (what a proxy replays on).
      counts.apiCalls += 1;
      const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      return bearer && validAccess.has(bearer)
        ? json(res, 200, { ok: true, path: req.url })
        : json(res, 401, { error: 'invalid_token' });
    }
    if (req.method === 'GET' && req.url?.startsWith('/authorize')) return authorize(req, res);
    if (req.method === 'POST' && req.url?.startsWith('/revoke')) return revoke(req, res, body);
    if (req.method !== 'POST' || !req.url?.startsWith('/token'))
      return json(res, 404, { error: 'not_found' });
    counts.requests += 1;
    const fault = faults.shift();
    if (fault) {
      counts.faults += 1;
      if ('drop' in fault) return void req.socket.destroy();
      if ('status' in fault) {
        if (fault.retryAfter !== undefined) res.setHeader('retry-after', fault.retryAfter);
        return json(res, fault.status, fault.body ?? { error: 'temporarily_unavailable' });
      }
      await new Promise((r) => setTimeout(r, fault.delayMs));
    }
    while (gate) await gate;
    // A client that went away (timeout, killed process) never sees an answer, so nothing rotates.
    if (req.socket.destroyed) return;
    const form = new URLSearchParams(body);
    resources.token.push(form.get('resource'));
    if (!authenticated(req, form)) {
      counts.invalidClient += 1;
      return json(res, 401, { error: 'invalid_client' });
    }
    const grantType = form.get('grant_type');
    if (grantType === 'client_credentials') {
      if (!families.has('client-credentials')) provider.issue('client-credentials');
      const family = families.get('client-credentials') as Family;
      grantAccess(family);
      return answer(res, family, false);
    }
    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (code && code.resource !== form.get('resource')) {
        counts.invalidGrant += 1;
        return json(res, 400, { error: 'invalid_target' });
      }
      if (!code || code.redirectUri !== form.get('redirect_uri') || code.challenge !== challenge) {
        counts.invalidGrant += 1;
        return json(res, 400, {
          error: 'invalid_grant',
          error_description: 'code, redirect_uri or PKCE mismatch',
        });
      }
      const pair = provider.issue(`consent-${randomBytes(4).toString('hex')}`);
      const family = byRefresh.get(pair.refreshToken) as Family;
      return answer(res, family, true);
    }
    if (grantType !== 'refresh_token') return json(res, 400, { error: 'unsupported_grant_type' });
    const presented = form.get('refresh_token') ?? '';
    const family = byRefresh.get(presented);
    if (!family || family.revoked || family.current !== presented) {
      // Reuse of a rotated token: like the strict providers, revoke every token of the family.
      if (family) {
        family.revoked = true;
        validAccess.delete(family.accessToken);
      }
      counts.invalidGrant += 1;
      return json(res, 400, { error: 'invalid_grant', error_description: 'refresh token is invalid' });
    }
    if (options.rotate) {
      family.used.add(family.current);
      family.current = mint('rt', family.id);
      byRefresh.set(family.current, family);
    }
    grantAccess(family);
    family.refreshedAt.push(Date.now());
    counts.refreshes += 1;
    await provider.beforeAnswer?.(family.id);
    return answer(res, family, options.rotate);
  }

  // RFC 7009: 200 for a revoked token and for one it does not know; the family's tokens die.
  function revoke(req: IncomingMessage, res: ServerResponse, body: string): void {
    const fault = revocationFaults.shift();
    if (fault !== undefined) return json(res, fault.status, fault.body);
    const form = new URLSearchParams(body);
    if (!authenticated(req, form)) return json(res, 401, { error: 'invalid_client' });
    const token = form.get('token') ?? '';
    if (!token) return json(res, 400, { error: 'invalid_request' });
    revocations.push({ token, tokenTypeHint: form.get('token_type_hint') });
    const family = byRefresh.get(token) ?? [...families.values()].find((f) => f.accessToken === token);
    if (family) {
      family.revoked = true;
      validAccess.delete(family.accessToken);
    }
    res.writeHead(200, { 'cache-control': 'no-store' });
    res.end();
  }

  // The consent screen, answered yes at once (or no, once, after denyNextAuthorization).
  function authorize(req: IncomingMessage, res: ServerResponse): void {
    const query = new URL(req.url ?? '/', 'http://provider').searchParams;
    const redirectUri = query.get('redirect_uri') ?? '';
    const back = new URL(redirectUri);
    resources.authorize.push(query.get('resource'));
    if (
      query.get('response_type') !== 'code' ||
      query.get('client_id') !== options.clientId ||
      query.get('code_challenge_method') !== 'S256' ||
      !query.get('code_challenge')
    ) {
      return json(res, 400, { error: 'invalid_request' });
    }
    if (denyNext) {
      if (denyNext.description !== undefined)
        back.searchParams.set('error_description', denyNext.description);
      denyNext = undefined;
      back.searchParams.set('error', 'access_denied');
    } else {
      const code = `code-${randomBytes(12).toString('hex')}`;
      codes.set(code, {
        challenge: query.get('code_challenge') ?? '',
        redirectUri,
        resource: query.get('resource'),
      });
      back.searchParams.set('code', code);
    }
    back.searchParams.set('state', query.get('state') ?? '');
    const iss = forgedIss ? forgedIss.iss : options.sendIss ? provider.url : null;
    forgedIss = undefined;
    if (iss !== null) back.searchParams.set('iss', iss);
    res.writeHead(302, { location: back.href });
    res.end();
  }

  function answer(res: ServerResponse, family: Family, withRefresh: boolean): void {
    const out: Record<string, unknown> = { access_token: family.accessToken, token_type: 'Bearer' };
    if (options.expiresIn !== null) out['expires_in'] = options.expiresIn;
    if (withRefresh) out['refresh_token'] = family.current;
    json(res, 200, out);
  }

  function authenticated(req: IncomingMessage, form: URLSearchParams): boolean {
    const header = req.headers.authorization;
    if (options.authMethod === 'client_secret_basic') {
      if (!header?.startsWith('Basic ') || form.has('client_secret')) return false;
      const [id, secret] = Buffer.from(header.slice(6), 'base64').toString().split(':');
      // RFC 6749 2.3.1: both parts are form-urlencoded before base64.
      const decode = (v: string | undefined) => decodeURIComponent((v ?? '').replace(/\+/g, ' '));
      return decode(id) === options.clientId && decode(secret) === options.clientSecret;
    }
    if (header) return false;
    return form.get('client_id') === options.clientId && form.get('client_secret') === options.clientSecret;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  provider.url = `http://127.0.0.1:${port}`;
  provider.tokenUrl = `${provider.url}/token`;
  provider.revocationUrl = `${provider.url}/revoke`;
  return provider;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
