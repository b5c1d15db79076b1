import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export type SigningAlg = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';

/** How the issuer's endpoints answer: as they should, or as a broken or hostile issuer would. */
export type IssuerMode = 'ok' | 'garbage' | 'hang' | 'huge' | 'error' | 'no-keys' | 'drop';

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface IssuerOptions {
  alg?: SigningAlg;
  /** A path after the origin, as issuers with tenants in their URL have (`/realms/acme`). */
  path?: string;
  /** Which discovery document it serves: OpenID Connect's, RFC 8414's, or none. */
  discovery?: 'oidc' | 'oauth' | 'none';
  /** The `typ` header of the tokens it signs; null leaves it out. Default `at+jwt`. */
  typ?: string | null;
  /** The `kid` of its first key. */
  kid?: string;
  /** Where it serves its JWKS (below `path`); default `/jwks`. */
  jwksPath?: string;
  /** Serve HTTPS with this certificate (e.g. selfSignedCert(), as a cluster's own CA would sign). */
  tls?: { key: string; cert: string };
}

export interface TokenIssuer {
  issuer: string;
  jwksUrl: string;
  /** Requests per endpoint: `jwks`, `openid-configuration`, `oauth-authorization-server`. */
  fetches: Record<string, number>;
  /** How the key set and discovery endpoints answer from now on. */
  mode: IssuerMode;
  /** The `issuer` its discovery document names (its own unless a test says otherwise). */
  documentIssuer: string;
  /** The keys it publishes, newest last. */
  keys: SigningKey[];
  /** Extra JWKs published beside its own (a symmetric key, a private one, ...). */
  extraJwks: JWK[];
  /**
   * A token: `iss`, `iat`, `exp` in 5 minutes and the given claims (which may override
   * them; `undefined` removes one), signed with the newest key unless `key` says otherwise.
   */
  sign(
    claims: Record<string, unknown>,
    options?: {
      key?: SigningKey;
      kid?: string;
      typ?: string | null;
      alg?: string;
      /** More protected-header fields (GitHub's `x5t`, ...). */
      header?: Record<string, string>;
    },
  ): Promise<string>;
  /** A new key, published; `retire` stops publishing the older ones. */
  rotate(options?: { retire?: boolean; alg?: SigningAlg; kid?: string }): Promise<SigningKey>;
  /** A key it signs with but does not publish (a forger's, or one not fetched yet). */
  unpublishedKey(alg?: SigningAlg): Promise<SigningKey>;
  stop(): Promise<void>;
}

export async function makeKey(alg: SigningAlg, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

/**
 * A local token issuer shaped like the real ones: it signs JWTs with asymmetric keys and
 * publishes them as a JWKS, with an OpenID Connect or RFC 8414 discovery document (or
 * none); it counts what it is asked, and can answer as a broken issuer does (garbage,
 * silence, a flood, errors, dropped connections). Used as the workload issuers'
 * stand-in (Kubernetes, GitHub Actions, SPIRE) with their claim shapes.
 */
export async function startTokenIssuer(options: IssuerOptions = {}): Promise<TokenIssuer> {
  const alg = options.alg ?? 'RS256';
  const path = options.path ?? '';
  const discovery = options.discovery ?? 'oidc';
  const jwksPath = options.jwksPath ?? '/jwks';
  const hanging = new Set<ServerResponse>();
  let counter = 0;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const which =
      url.pathname === `${path}${jwksPath}`
        ? 'jwks'
        : url.pathname === `${path}/.well-known/openid-configuration` && discovery === 'oidc'
          ? 'openid-configuration'
          : url.pathname === `/.well-known/oauth-authorization-server${path}` && discovery === 'oauth'
            ? 'oauth-authorization-server'
            : undefined;
    if (!which) {
      res.writeHead(404).end();
      return;
    }
    issuer.fetches[which] = (issuer.fetches[which] ?? 0) + 1;
    switch (issuer.mode) {
      case 'hang':
        hanging.add(res);
        return;
      case 'drop':
        req.socket.destroy();
        return;
      case 'error':
        res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ not json');
        return;
      case 'huge': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let left = 64; // 4 MiB of whitespace, streamed (no content-length)
        const pump = () => {
          while (left > 0) {
            left -= 1;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end('{}');
        };
        res.on('error', () => {});
        pump();
        return;
      }
      case 'no-keys':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"issuer_keys": []}');
        return;
      case 'ok':
        break;
    }
    const body =
      which === 'jwks'
        ? { keys: [...issuer.keys.map((k) => k.publicJwk), ...issuer.extraJwks] }
        : { issuer: issuer.documentIssuer, jwks_uri: issuer.jwksUrl, response_types_supported: ['code'] };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const http = options.tls ? createTlsServer(options.tls, handle) : createServer(handle);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const scheme = options.tls ? 'https' : 'http';
  const origin = `${scheme}://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const first = await makeKey(alg, options.kid ?? `key-${++counter}`);
  const issuer: TokenIssuer = {
    issuer: `${origin}${path}`,
    jwksUrl: `${origin}${path}${jwksPath}`,
    fetches: {},
    mode: 'ok',
    documentIssuer: `${origin}${path}`,
    keys: [first],
    extraJwks: [],
    async sign(claims, signOptions = {}) {
      const key = signOptions.key ?? (issuer.keys.at(-1) as SigningKey);
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = { iss: issuer.issuer, iat: now, exp: now + 300, ...claims };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
      const typ =
        signOptions.typ === undefined
          ? options.typ === undefined
            ? 'at+jwt'
            : options.typ
          : signOptions.typ;
      return new SignJWT(payload as JWTPayload)
        .setProtectedHeader({
          ...signOptions.header,
          alg: signOptions.alg ?? key.alg,
          kid: signOptions.kid ?? key.kid,
          ...(typ === null ? {} : { typ }),
        })
        .sign(key.privateKey);
    },
    async rotate(rotateOptions = {}) {
      const key = await makeKey(rotateOptions.alg ?? alg, rotateOptions.kid ?? `key-${++counter}`);
      if (rotateOptions.retire) issuer.keys.length = 0;
      issuer.keys.push(key);
      return key;
    },
    unpublishedKey: (keyAlg = alg) => makeKey(keyAlg, `unpublished-${++counter}`),
    stop: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.destroy();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
  return issuer;
}
