import { Type, type Static } from '@sinclair/typebox';
import { MUST_BE_HTTPS, plainHttp } from './tls.ts';

// Kept here rather than imported from schema.ts, which imports this file.
const NAME = '^[a-z0-9][a-z0-9_-]{0,62}$';
const Strict = { additionalProperties: false } as const;
const HttpUrl = Type.String({ pattern: '^https?://[^\\s#]+$' });

/**
 * Asymmetric JWS algorithms only: a JWKS holds public keys, so an HMAC algorithm could
 * only ever be "verified" with a public key as the secret (RFC 8725 §2.1). `none` is
 * never accepted (jose refuses unsecured JWTs in jwtVerify anyway).
 */
export const TOKEN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** A claim: its name, or a path of names into nested objects (`[kubernetes.io, namespace]`). */
const ClaimPath = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 8 }),
]);

const FromClaim = Type.Object(
  {
    claim: ClaimPath,
    /** A regular expression whose first capture group is the value (e.g. a tenant inside a SPIFFE ID). */
    pattern: Type.Optional(Type.String({ minLength: 1 })),
  },
  Strict,
);

export const IssuerSchema = Type.Object(
  {
    /** The `iss` tokens carry, compared as a string (RFC 8414 issuer identifier). */
    issuer: HttpUrl,
    /** Where the issuer's keys are; else from its discovery document. */
    jwksUrl: Type.Optional(HttpUrl),
    /** PEM file of a CA to trust for the issuer's discovery and keys, besides the system's (a cluster's CA). */
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Accepted `aud` values; default: Keygate's public URL. The per-path resource URL is always accepted. */
    audience: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** The tenant of every token: a claim's value, or one fixed tenant. */
    tenant: Type.Union([FromClaim, Type.Object({ value: Type.String({ pattern: NAME }) }, Strict)]),
    /** Pins each token to one account: a claim's value (e.g. `sub`). */
    account: Type.Optional(FromClaim),
    algorithms: Type.Optional(
      Type.Array(Type.Union(TOKEN_ALGORITHMS.map((a) => Type.Literal(a))), { minItems: 1 }),
    ),
    /** Accepted `typ` header values (case-insensitive, `application/` ignored); `""` accepts none. */
    tokenTypes: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, default: ['at+jwt'] }),
    /** Scopes every token of this issuer holds besides its own (for issuers whose tokens carry none). */
    scopes: Type.Optional(Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$' }))),
    /** Claims a token must carry with one of these values (top-level, string-valued), e.g. `repository_owner_id`. */
    requiredClaims: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1 }),
        Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]),
      ),
    ),
    /** Listed in protected-resource metadata as an authorization server; false for workload issuers. */
    advertise: Type.Boolean({ default: true }),
  },
  Strict,
);

export const CallersSchema = Type.Object(
  {
    /**
     * Keygate's URL as callers reach it: the default audience, and the base of every
     * protected resource (`<publicUrl>/proxy/{tenant}/{integration}`). Default:
     * `reauth.publicUrl`, else the address Keygate listens on. Never the request's Host.
     */
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#]+/?$' })),
    issuers: Type.Array(IssuerSchema, { default: [] }),
    /** Leeway on `exp` and `nbf`. */
    clockSkewSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
    /** A presented token longer than this is refused before it is parsed. */
    maxTokenBytes: Type.Integer({ minimum: 256, maximum: 65_536, default: 8192 }),
    /** Verified tokens remembered (by hash, until their `exp`). */
    cacheMaxEntries: Type.Integer({ minimum: 1, default: 10_000 }),
    jwks: Type.Object(
      {
        /** Discovery and key-set fetches: the whole answer within this. */
        timeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000 }),
        maxBytes: Type.Integer({ minimum: 1024, maximum: 4_194_304, default: 262_144 }),
        /** An unknown `kid` refetches the key set at most this often per issuer. */
        cooldownSeconds: Type.Number({ minimum: 1, default: 30 }),
        /** A key set older than this is refetched in the background; the old one serves meanwhile. */
        maxAgeSeconds: Type.Number({ minimum: 10, default: 600 }),
      },
      { ...Strict, default: {} },
    ),
  },
  { ...Strict, default: {} },
);

export type CallersConfig = Static<typeof CallersSchema>;
export type IssuerConfig = Static<typeof IssuerSchema>;
export type ClaimSource = Static<typeof FromClaim>;

/**
 * What the schema cannot say: unique issuers over TLS, patterns that compile and capture,
 * and (with issuers) a public URL that is an origin: RFC 9728 puts the metadata of
 * `<origin>/<path>` at `<origin>/.well-known/oauth-protected-resource/<path>`, which a
 * Keygate served below a path prefix would not receive.
 */
export function callersProblems(callers: CallersConfig, reauthPublicUrl?: string): string[] {
  const problems: string[] = [];
  const publicUrl = callers.publicUrl ?? reauthPublicUrl;
  if (
    callers.issuers.length > 0 &&
    publicUrl !== undefined &&
    new URL(publicUrl).pathname.replace(/\/+$/, '') !== ''
  ) {
    problems.push(
      `callers.publicUrl: access tokens need Keygate at the root of an origin; set callers.publicUrl to the origin (reauth.publicUrl ${publicUrl} has a path)`,
    );
  }
  const seen = new Set<string>();
  callers.issuers.forEach((issuer, i) => {
    const at = `callers.issuers.${i}`;
    if (seen.has(issuer.issuer)) problems.push(`${at}.issuer: ${issuer.issuer} is listed twice`);
    seen.add(issuer.issuer);
    // Keys fetched over plain HTTP could be anyone's: whoever is on the path would mint tokens.
    for (const field of ['issuer', 'jwksUrl'] as const) {
      const url = issuer[field];
      if (url !== undefined && plainHttp(url)) problems.push(`${at}.${field}: ${MUST_BE_HTTPS}`);
    }
    for (const [field, source] of [
      ['tenant', issuer.tenant],
      ['account', issuer.account],
    ] as const) {
      if (!source || !('claim' in source) || source.pattern === undefined) continue;
      try {
        if (new RegExp(`${source.pattern}|`).exec('')?.length === 1) {
          problems.push(`${at}.${field}.pattern: needs a capture group, whose match is the value`);
        }
      } catch {
        problems.push(`${at}.${field}.pattern: not a valid regular expression`);
      }
    }
  });
  return problems;
}
