import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.ts';
import { isKeygateError } from '../../src/errors.ts';
import { IssuerFetcher } from '../../src/identity/fetch-json.ts';
import { TokenVerifier } from '../../src/identity/tokens.ts';
import { testConfig } from '../support/keygate.ts';
import { startTokenIssuer, type TokenIssuer } from '../support/token-issuer.ts';
import { selfSignedCert } from '../support/upstream.ts';

/**
 * Issuers' key sets as the token verifier meets them: discovery (OpenID Connect, then
 * RFC 8414), the last good set serving while the issuer is down, one fetch for a flood
 * of made-up `kid`s, rotation, and issuers that answer garbage, hang, flood or vanish.
 * No Keygate around it: the verifier and a local issuer, on a clock the test moves.
 */
describe('issuer key sets', () => {
  const issuers: TokenIssuer[] = [];
  const fetchers: IssuerFetcher[] = [];
  let offset = 0;
  // Frozen where a test counts fetches against a cooldown: a busy machine's slow second must not move it.
  let frozenAt: number | undefined;
  const now = () => (frozenAt ?? Date.now()) + offset;
  afterEach(async () => {
    offset = 0;
    frozenAt = undefined;
    await Promise.all(issuers.splice(0).map((i) => i.stop()));
    await Promise.all(fetchers.splice(0).map((f) => f.close()));
  });

  async function setUp(options: Parameters<typeof startTokenIssuer>[0] = {}, extra = '') {
    const issuer = await startTokenIssuer(options);
    issuers.push(issuer);
    const { callers } = testConfig(
      `callers:
  jwks: { timeoutMs: 300, maxBytes: 65536 }
  issuers:
    - { issuer: "${issuer.issuer}", audience: [keygate], tenant: { value: acme }${extra} }
`,
      { VAULT_TOKEN: 'unused' },
    );
    const fetcher = new IssuerFetcher(callers.jwks);
    fetchers.push(fetcher);
    const outcomes: string[] = [];
    const verifier = new TokenVerifier({
      callers,
      fetcherFor: () => fetcher,
      now,
      onFetch: (_issuer, outcome) => outcomes.push(outcome.ok ? 'ok' : outcome.reason),
    });
    return { issuer, verifier, outcomes };
  }
  const claims = (extra: Record<string, unknown> = {}) => {
    const t = Math.floor(now() / 1000);
    return { sub: 'agent-1', aud: 'keygate', iat: t, exp: t + 300, ...extra };
  };
  async function refusal(
    promise: Promise<unknown>,
  ): Promise<{ code: ErrorCode; message: string; retryAfter?: number }> {
    try {
      await promise;
    } catch (err) {
      if (isKeygateError(err)) {
        return {
          code: err.code,
          message: err.message,
          ...(err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter }),
        };
      }
      throw err;
    }
    throw new Error('expected a refusal');
  }
  const jwksFetches = (issuer: TokenIssuer) => issuer.fetches['jwks'] ?? 0;

  it('finds the keys through OpenID Connect discovery and verifies a token once', async () => {
    const { issuer, verifier } = await setUp();
    const token = await issuer.sign(claims());
    const verified = await verifier.verify(token);
    expect(verified).toMatchObject({ tenant: 'acme', audiences: ['keygate'] });
    expect(verified.caller).toMatchObject({
      kind: 'token',
      id: expect.stringMatching(/^t_[A-Za-z0-9_-]{22}$/),
    });
    expect(await verifier.verify(token)).toBe(verified); // from memory
    expect(issuer.fetches).toEqual({ 'openid-configuration': 1, jwks: 1 });
  });

  it('falls back to RFC 8414 metadata, with the path inserted after the well-known prefix', async () => {
    const { issuer, verifier } = await setUp({ discovery: 'oauth', path: '/realms/acme', alg: 'ES256' });
    await verifier.verify(await issuer.sign(claims()));
    expect(issuer.fetches).toEqual({ 'oauth-authorization-server': 1, jwks: 1 });
  });

  it('refuses discovery documents that name another issuer: no keys are taken from them', async () => {
    const { issuer, verifier, outcomes } = await setUp();
    issuer.documentIssuer = 'https://login.elsewhere.example';
    expect((await refusal(verifier.verify(await issuer.sign(claims())))).code).toBe('issuer_unavailable');
    expect(outcomes).toEqual(['discovery failed: its metadata names another issuer; answered HTTP 404']);
    expect(issuer.fetches).toEqual({ 'openid-configuration': 1 });
  });

  it('a flood of made-up kids costs one key-set fetch per cooldown, and a rotation is picked up after it', async () => {
    frozenAt = Date.now();
    const { issuer, verifier } = await setUp();
    await verifier.verify(await issuer.sign(claims()));
    expect(jwksFetches(issuer)).toBe(1);
    const forger = await issuer.unpublishedKey();
    const flood = await Promise.all(
      Array.from({ length: 50 }, (_, i) => issuer.sign(claims(), { key: forger, kid: `made-up-${i}` })),
    );
    const answers = await Promise.all(flood.map((t) => refusal(verifier.verify(t))));
    expect(new Set(answers.map((a) => a.code))).toEqual(new Set(['invalid_token']));
    for (const t of flood.slice(0, 10)) await refusal(verifier.verify(t));
    expect(jwksFetches(issuer)).toBe(1); // within 30 s of the first fetch: none at all

    offset += 31_000;
    await Promise.all(flood.map((t) => refusal(verifier.verify(t))));
    expect(jwksFetches(issuer)).toBe(2); // one for the whole flood

    const rotated = await issuer.rotate({ retire: true });
    const fresh = await issuer.sign(claims(), { key: rotated });
    expect((await refusal(verifier.verify(fresh))).message).toMatch(/not in its issuer's key set/);
    offset += 31_000;
    expect((await verifier.verify(fresh)).tenant).toBe('acme');
    expect(jwksFetches(issuer)).toBe(3);
  });

  it('keeps serving the last good key set while the issuer is down, past its max age', async () => {
    const { issuer, verifier, outcomes } = await setUp();
    await verifier.verify(await issuer.sign(claims()));
    for (const mode of ['error', 'drop', 'garbage', 'hang', 'huge', 'no-keys'] as const) {
      issuer.mode = mode;
      offset += 11 * 60_000; // past maxAgeSeconds (600): a background refetch starts, and fails
      const token = await issuer.sign(claims({ sub: `agent-${mode}` }));
      const seen = outcomes.length;
      expect((await verifier.verify(token)).tenant).toBe('acme');
      await expect.poll(() => outcomes.length, { timeout: 5000 }).toBe(seen + 1);
    }
    expect(outcomes.slice(1)).toEqual([
      'answered HTTP 503',
      expect.stringMatching(/^unreachable|failed mid-answer/),
      'answered something that is not JSON',
      'timed out',
      'answer larger than 65536 bytes',
      'the key set has no "keys" array',
    ]);
  });

  it('an issuer never reached: 503 issuer_unavailable, bounded, one attempt per few seconds; then it recovers', async () => {
    for (const mode of ['hang', 'garbage', 'huge', 'error'] as const) {
      frozenAt = Date.now();
      const { issuer, verifier } = await setUp();
      issuer.mode = mode;
      const token = await issuer.sign(claims());
      const first = await refusal(verifier.verify(token));
      expect(first).toMatchObject({ code: 'issuer_unavailable' });
      expect(first.retryAfter).toBeGreaterThan(0);
      const fetches = { ...issuer.fetches };
      expect((await refusal(verifier.verify(token))).code).toBe('issuer_unavailable');
      expect(issuer.fetches).toEqual(fetches); // no second attempt within the wait
      issuer.mode = 'ok';
      offset += 6000;
      expect((await verifier.verify(token)).tenant).toBe('acme');
    }
  });

  it('refuses wrong key types, HMAC with the public key, alg none, and keys a JWKS must not hold', async () => {
    const { issuer, verifier } = await setUp({ alg: 'RS256' });
    const rsa = issuer.keys[0]!;
    const ec = await issuer.rotate({ alg: 'ES256', kid: 'ec-key' });
    // The EC key's kid on an RS256 token: jose finds no RSA key of that id.
    const wrongType = await issuer.sign(claims(), { key: rsa, kid: 'ec-key' });
    expect((await refusal(verifier.verify(wrongType))).code).toBe('invalid_token');
    await verifier.verify(await issuer.sign(claims(), { key: ec }));

    // The classic confusion: HS256 "signed" with the RSA public key as the HMAC secret.
    const secret = new TextEncoder().encode(JSON.stringify(rsa.publicJwk));
    const hmac = await new SignJWT({ iss: issuer.issuer, ...claims() })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid, typ: 'at+jwt' })
      .sign(secret);
    expect((await refusal(verifier.verify(hmac))).message).toMatch(/algorithm \(alg\) is not allowed/);

    const none = [
      Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url'),
      Buffer.from(JSON.stringify({ iss: issuer.issuer, ...claims() })).toString('base64url'),
      '',
    ].join('.');
    expect((await refusal(verifier.verify(none))).code).toBe('invalid_token');

    // A symmetric key and a private key published in the JWKS are never used.
    const sym = new TextEncoder().encode('s'.repeat(32));
    issuer.extraJwks.push({
      kty: 'oct',
      k: Buffer.from(sym).toString('base64url'),
      kid: 'sym',
      alg: 'HS256',
    });
    const leaked = await generateKeyPair('ES256', { extractable: true });
    const privateJwk: JWK = { ...(await exportJWK(leaked.privateKey)), kid: 'leaked', alg: 'ES256' };
    issuer.extraJwks.push(privateJwk);
    offset += 31_000;
    const bySym = await new SignJWT({ iss: issuer.issuer, ...claims() })
      .setProtectedHeader({ alg: 'HS256', kid: 'sym', typ: 'at+jwt' })
      .sign(sym);
    expect((await refusal(verifier.verify(bySym))).code).toBe('invalid_token');
    const byLeaked = await new SignJWT({ iss: issuer.issuer, ...claims() })
      .setProtectedHeader({ alg: 'ES256', kid: 'leaked', typ: 'at+jwt' })
      .sign(leaked.privateKey);
    expect((await refusal(verifier.verify(byLeaked))).message).toMatch(/not in its issuer's key set/);
  });

  it('refuses malformed and oversized tokens before any fetch, and expired or untyped ones after', async () => {
    const { issuer, verifier } = await setUp();
    const huge = `eyJ${'a'.repeat(10_000)}.b.c`;
    expect((await refusal(verifier.verify(huge))).message).toMatch(/longer than 8192 bytes/);
    for (const bad of [
      'eyJhbGciOi.xxx',
      'eyJ.....',
      'eyJhbGciOiJSUzI1NiJ9.e30.',
      `eyJ${'%'.repeat(40)}.x.y`,
    ]) {
      expect((await refusal(verifier.verify(bad))).message).toMatch(/not a well-formed JWT|issuer/);
    }
    expect(issuer.fetches).toEqual({});
    const expired = await issuer.sign(claims({ exp: Math.floor(now() / 1000) - 60 }));
    expect((await refusal(verifier.verify(expired))).message).toMatch(/expired/);
    const early = await issuer.sign(claims({ nbf: Math.floor(now() / 1000) + 600 }));
    expect((await refusal(verifier.verify(early))).message).toMatch(/not valid yet/);
    const idToken = await issuer.sign(claims(), { typ: 'JWT' });
    expect((await refusal(verifier.verify(idToken))).message).toMatch(/typ header/);
    const noSub = await issuer.sign(claims({ sub: undefined }));
    expect((await refusal(verifier.verify(noSub))).message).toMatch(/sub claim/);
    const noExp = await issuer.sign(claims({ exp: undefined }));
    expect((await refusal(verifier.verify(noExp))).message).toMatch(/exp claim/);
    const foreign = await issuer.sign(claims({ iss: 'https://elsewhere.example' }));
    expect((await refusal(verifier.verify(foreign))).message).toMatch(/issuer \(iss\)/);

    // A cached token stops at its exp (plus the skew) without being verified again.
    const short = await issuer.sign(claims({ exp: Math.floor(now() / 1000) + 5 }));
    await verifier.verify(short);
    offset += 5000 + 31_000;
    expect((await refusal(verifier.verify(short))).message).toMatch(/expired/);
  });

  it('verifies TLS: an issuer whose certificate the system does not trust is unavailable without its caFile', async () => {
    const { issuer, verifier, outcomes } = await setUp({ tls: selfSignedCert() });
    expect((await refusal(verifier.verify(await issuer.sign(claims())))).code).toBe('issuer_unavailable');
    expect(outcomes[0]).toMatch(/^discovery failed: unreachable \(/);
    expect(issuer.fetches).toEqual({});
  });
});
