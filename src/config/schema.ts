import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPES } from '../events/catalogue.ts';
import { CallersSchema } from './callers.ts';
import { BudgetSchema, TenantsSchema } from './budgets.ts';
import { ReauthIdentitySchema } from './reauth-identity.ts';
import { TelemetrySchema } from './telemetry.ts';
import { VaultAuthSchema } from './vault-auth.ts';

/** Names of tenants and integrations; anything else is a 400, never a Vault path. */
export const NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';

const Url = Type.String({ pattern: '^https?://[^\\s]+$' });
const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Ms = Type.Integer({ minimum: 1 });
const Strict = { additionalProperties: false } as const;

export const UpstreamOptionsSchema = Type.Object(
  {
    /** PEM file of a CA to trust for this upstream, in addition to the system's. */
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    connections: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    keepAliveTimeoutMs: Type.Optional(Ms),
    connectTimeoutMs: Type.Optional(Ms),
    headersTimeoutMs: Type.Optional(Ms),
    bodyTimeoutMs: Type.Optional(Ms),
  },
  Strict,
);

export const AuthSchema = Type.Object(
  {
    type: Type.Union([
      Type.Literal('oauth2'),
      Type.Literal('oauth2_client_credentials'),
      Type.Literal('api_key'),
    ]),
    authorizationUrl: Type.Optional(Url),
    tokenUrl: Type.Optional(Url),
    revocationUrl: Type.Optional(Url),
    clientId: Type.Optional(Type.String({ minLength: 1 })),
    clientSecret: Type.Optional(Type.String({ minLength: 1 })),
    scopes: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    tokenEndpointAuthMethod: Type.Optional(
      Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post')]),
    ),
    /** RFC 8707: the protected resource the tokens are for, sent in authorization and token requests. */
    resource: Type.Optional(Type.String({ pattern: '^https?://[^\\s#]+$' })),
    /** RFC 8414 issuer identifier, the `iss` the callback must carry (RFC 9207); default: authorizationUrl's origin. */
    issuer: Type.Optional(Url),
    /** RFC 9207: the provider always sends `iss`, so a callback without it is refused. */
    issParameterSupported: Type.Optional(Type.Boolean()),
  },
  Strict,
);

export const InjectSchema = Type.Object(
  {
    header: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" })),
    format: Type.Optional(Type.String({ pattern: '\\{token\\}' })),
    query: Type.Optional(Type.String({ minLength: 1 })),
    basic: Type.Optional(
      Type.Object({ username: Type.Optional(Type.String()), password: Type.Optional(Type.String()) }, Strict),
    ),
  },
  Strict,
);

export const IntegrationSchema = Type.Object(
  {
    template: Type.Optional(Type.String({ minLength: 1 })),
    baseUrl: Url,
    auth: AuthSchema,
    inject: Type.Optional(InjectSchema),
    /** Defaults: sent when the caller sends no header of that name. */
    headers: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
    /** Always sent, replacing the caller's (the injected credential still wins). */
    forceHeaders: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
    upstream: Type.Optional(UpstreamOptionsSchema),
    budget: Type.Optional(BudgetSchema),
  },
  Strict,
);

export const WebhookSchema = Type.Object(
  {
    url: Url,
    /** A Standard Webhooks secret: `whsec_` and base64 of 24 to 64 random bytes. */
    secret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{32,88}={0,2}$' }),
    /** Only these events; all of them when absent. */
    events: Type.Optional(Type.Array(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))), { minItems: 1 })),
  },
  Strict,
);

export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ minLength: 1, default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        /** On SIGTERM, in-flight requests get this long before their connections are cut. */
        shutdownGraceMs: Type.Integer({ minimum: 0, default: 10_000 }),
        /** A request's headers and body must have arrived within this; then 408 and the connection closes. */
        requestTimeoutMs: Type.Integer({ minimum: 100, default: 120_000 }),
        /** A connection with no bytes either way for this long is closed; above every upstream timeout. */
        connectionTimeoutMs: Type.Integer({ minimum: 100, default: 900_000 }),
        /** Connections beyond this many are refused at accept (Node's server.maxConnections). */
        maxConnections: Type.Integer({ minimum: 1, default: 10_000 }),
      },
      { ...Strict, default: {} },
    ),
    admin: Type.Object(
      {
        /** Bearer token for /v1; from KEYGATE_ADMIN_TOKEN. Without it the admin API refuses everything. */
        token: Type.Optional(Type.String({ minLength: 16 })),
      },
      { ...Strict, default: {} },
    ),
    vault: Type.Object(
      {
        address: Type.String({ pattern: '^https?://[^\\s]+$', default: 'http://127.0.0.1:8200' }),
        /** A cluster's node addresses; when set, used instead of `address`, and Keygate follows the active node. */
        addresses: Type.Optional(
          Type.Array(Type.String({ pattern: '^https?://[^\\s]+$' }), { minItems: 1, uniqueItems: true }),
        ),
        token: Type.Optional(Type.String({ minLength: 1 })),
        appRole: Type.Optional(
          Type.Object(
            {
              roleId: Type.String({ minLength: 1 }),
              secretId: Type.String({ minLength: 1 }),
              mount: Type.String({ minLength: 1, default: 'approle' }),
            },
            Strict,
          ),
        ),
        auth: VaultAuthSchema,
        namespace: Type.Optional(Type.String({ minLength: 1 })),
        caFile: Type.Optional(Type.String({ minLength: 1 })),
        kvMount: Type.String({ minLength: 1, default: 'secret' }),
        transitMount: Type.String({ minLength: 1, default: 'transit' }),
        /** Everything Keygate keeps lives under this KV prefix and Transit key-name prefix. */
        prefix: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', default: 'keygate' }),
        timeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
        /** Upper bound on the time spent retrying one Vault operation. */
        retryBudgetMs: Type.Integer({ minimum: 0, default: 3000 }),
      },
      { ...Strict, default: {} },
    ),
    cache: Type.Object(
      {
        ttlSeconds: Type.Number({ minimum: 0, default: 60 }),
        maxEntries: Type.Integer({ minimum: 1, default: 10_000 }),
        /** While Vault is unreachable, a cached credential keeps serving this long past its TTL. */
        maxStaleSeconds: Type.Number({ minimum: 0, default: 300 }),
        /** After Vault is seen down, stale entries serve at once this long while one read per entry retries behind. */
        outageBackoffSeconds: Type.Number({ minimum: 0, default: 5 }),
        /** A credential or Keygate key id Vault does not have is remembered this long (0: not at all). */
        notFoundSeconds: Type.Number({ minimum: 0, default: 5 }),
        /** Names remembered as absent, in an LRU of their own so made-up ones evict no real entry. */
        notFoundMaxEntries: Type.Integer({ minimum: 1, default: 10_000 }),
      },
      { ...Strict, default: {} },
    ),
    refresh: Type.Object(
      {
        bufferSeconds: Type.Integer({ minimum: 0, default: 300 }),
        defaultExpiresInSeconds: Type.Integer({ minimum: 1, default: 3600 }),
        clockSkewSeconds: Type.Integer({ minimum: 0, default: 30 }),
        /** Retries after the first token request: 3 means waits of 100/200/400 ms by default. */
        retries: Type.Integer({ minimum: 0, default: 3 }),
        minBackoffMs: Type.Integer({ minimum: 1, default: 100 }),
        maxBackoffMs: Type.Integer({ minimum: 1, default: 30_000 }),
        retryFailedAfterSeconds: Type.Integer({ minimum: 1, default: 60 }),
        tokenTimeoutMs: Type.Integer({ minimum: 100, default: 15_000 }),
        leaseSeconds: Type.Integer({ minimum: 1, default: 60 }),
        concurrency: Type.Integer({ minimum: 1, default: 8 }),
        /** Without the fleet poll: re-list stored credentials this often, to follow other replicas; 0: never. */
        resyncSeconds: Type.Integer({ minimum: 0, default: 300 }),
      },
      { ...Strict, default: {} },
    ),
    oauth: Type.Object(
      {
        /**
         * The redirect URI registered with providers for `POST .../connect/...`; without it,
         * Keygate derives one from the admin request's host (fine for development only).
         */
        callbackUrl: Type.Optional(Url),
        /** How long a connect flow (state + PKCE verifier) may take before the callback. */
        stateTtlSeconds: Type.Integer({ minimum: 30, maximum: 86_400, default: 600 }),
        /**
         * Where a connect flow's `returnTo` may send the browser after the callback: origin plus
         * path prefix, matched on a segment boundary. No user info, query or fragment.
         */
        allowedReturnUrls: Type.Array(
          Type.String({ pattern: '^https?://[^\\s/?#@\\\\]+(/[^\\s?#\\\\]*)?$' }),
          {
            default: [],
          },
        ),
      },
      { ...Strict, default: {} },
    ),
    reauth: Type.Object(
      {
        /** Origin of Keygate as browsers reach it, for `GET /connect/{id}` links; else derived from the request. */
        publicUrl: Type.Optional(Url),
        /** How long a connect link offered to a caller stays usable. */
        linkTtlSeconds: Type.Integer({ minimum: 30, maximum: 86_400, default: 600 }),
        /** Binds links to the tenant's user (src/config/reauth-identity.ts, docs/mcp.md); else a confirmation code. */
        identity: Type.Optional(ReauthIdentitySchema),
      },
      { ...Strict, default: {} },
    ),
    fleet: Type.Object(
      {
        /** Read the fleet's changes record this often, to evict what other replicas changed; 0: never. */
        pollSeconds: Type.Number({ minimum: 0, default: 1 }),
        /** Entries the changes record keeps; a replica further behind drops all its caches. */
        changesKept: Type.Integer({ minimum: 10, maximum: 10_000, default: 500 }),
        /** With the poll on, the full re-list of stored credentials (a safety net) runs this often; 0: never. */
        fullResyncSeconds: Type.Integer({ minimum: 0, default: 21_600 }),
        /** Announce this replica in the `replicas` record this often, to shard due refreshes; 0: no sharding. */
        heartbeatSeconds: Type.Number({ minimum: 0, default: 5 }),
        /** A due refresh another live replica owns is attempted here only this long after it was due (× rank). */
        shardGraceSeconds: Type.Integer({ minimum: 1, default: 30 }),
      },
      { ...Strict, default: {} },
    ),
    replica: Type.Object(
      {
        /** This process's name in events and among replicas; default host name + pid. */
        id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' })),
      },
      { ...Strict, default: {} },
    ),
    events: Type.Object(
      {
        /** Events kept for GET /v1/events clients resuming with Last-Event-ID. */
        bufferSize: Type.Integer({ minimum: 1, default: 1000 }),
        heartbeatSeconds: Type.Number({ minimum: 0.05, default: 15 }),
        /** How webhooks are delivered (to each receiver on its own). */
        delivery: Type.Object(
          {
            /** Events waiting or in flight per receiver; past it new events are dropped (and counted). */
            queueSize: Type.Integer({ minimum: 1, default: 10_000 }),
            /** Deliveries in flight per receiver. */
            concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
            /** One POST may take this long (connect, headers and body). */
            timeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
            /** An event is retried for this long after it was published, then dropped (and counted). */
            retryForSeconds: Type.Number({ minimum: 0.1, default: 3600 }),
            minBackoffMs: Type.Integer({ minimum: 1, default: 500 }),
            maxBackoffMs: Type.Integer({ minimum: 1, default: 300_000 }),
          },
          { ...Strict, default: {} },
        ),
      },
      { ...Strict, default: {} },
    ),
    proxy: Type.Object(
      {
        maxBodyBytes: Type.Integer({ minimum: 0, default: 10 * 1024 * 1024 }),
        maxReplayBodyBytes: Type.Integer({ minimum: 0, default: 1024 * 1024 }),
        maxAttempts: Type.Integer({ minimum: 1, default: 3 }),
        maxRetryAfterSeconds: Type.Number({ minimum: 0, default: 30 }),
        backoffBaseMs: Type.Integer({ minimum: 1, default: 200 }),
        backoffMaxMs: Type.Integer({ minimum: 1, default: 10_000 }),
        /** Request headers in which a client SDK counts its retries; a count above 0 gets no Keygate retry. */
        callerRetryCountHeaders: Type.Array(Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }), {
          default: ['x-stainless-retry-count'],
        }),
        /** Verified Keygate keys are cached this long; a key revoked on another replica works until then. */
        keyCacheTtlSeconds: Type.Number({ minimum: 0, default: 30 }),
        keyCacheMaxEntries: Type.Integer({ minimum: 1, default: 10_000 }),
        upstream: Type.Object(
          {
            connections: Type.Integer({ minimum: 1, default: 128 }),
            keepAliveTimeoutMs: Type.Integer({ minimum: 1, default: 30_000 }),
            connectTimeoutMs: Type.Integer({ minimum: 1, default: 10_000 }),
            /**
             * Until the answer's headers; a backstop only, as a caller who gives up aborts the
             * upstream request at once. Long (5 min) so a slow legitimate answer is never cut.
             */
            headersTimeoutMs: Type.Integer({ minimum: 1, default: 300_000 }),
            /** Idle time between two chunks of the answer, not its total time: a flowing stream is never cut. */
            bodyTimeoutMs: Type.Integer({ minimum: 1, default: 300_000 }),
          },
          { ...Strict, default: {} },
        ),
      },
      { ...Strict, default: {} },
    ),
    metrics: Type.Object(
      {
        /** Bearer token GET /metrics requires; without one, /metrics is open (it holds no secret). */
        token: Type.Optional(Type.String({ minLength: 16 })),
      },
      { ...Strict, default: {} },
    ),
    authThrottle: Type.Object(
      {
        /** Failed Keygate-key authentications one client address may make per window before 429 (0: no limit). */
        maxFailures: Type.Integer({ minimum: 0, default: 20 }),
        windowSeconds: Type.Number({ minimum: 1, default: 60 }),
        /** Client addresses tracked at once (an LRU: the oldest is forgotten first). */
        maxAddresses: Type.Integer({ minimum: 1, default: 10_000 }),
      },
      { ...Strict, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
      },
      { ...Strict, default: {} },
    ),
    /** Callers by access token (docs/identity.md). */
    callers: CallersSchema,
    telemetry: TelemetrySchema,
    integrations: Type.Record(Type.String(), IntegrationSchema, { default: {} }),
    tenants: TenantsSchema,
    /** Receivers of every replica's events, signed per Standard Webhooks. */
    webhooks: Type.Array(WebhookSchema, { default: [] }),
  },
  Strict,
);

export type Config = Static<typeof ConfigSchema>;
export type IntegrationConfig = Static<typeof IntegrationSchema>;
export type AuthConfig = Static<typeof AuthSchema>;
export type WebhookConfig = Static<typeof WebhookSchema>;
export type InjectConfig = Static<typeof InjectSchema>;
export type UpstreamOptions = Static<typeof UpstreamOptionsSchema>;
export { Port };
