import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { selfSignedCert, startTlsUpstream, type FakeUpstream, type Received } from './upstream.ts';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';

/** One TokenReview the API server answered. */
export interface Review {
  /** The token under review. */
  token: string;
  /** Who asked (the bearer of the request). */
  reviewer: string;
  authenticated: boolean;
}

export interface KubernetesApi {
  /** https://127.0.0.1:PORT, what Vault's `kubernetes_host` takes. */
  url: string;
  /** PEM of the CA that signed the API server's certificate (`kubernetes_ca_cert`), and its file. */
  caCert: string;
  caFile: string;
  /** PEM of the service-account signing key (what `pem_keys` would take). */
  signingKeyPem: string;
  /** The API server's own audience (and issuer): the default of issue(). */
  audience: string;
  /** Mints a projected service-account token (an RS256 JWT), valid until revoked or expired. */
  issue(
    namespace: string,
    serviceAccount: string,
    options?: { audience?: string; ttlSeconds?: number },
  ): Promise<string>;
  /** The token stops passing review (the pod went, or the kubelet rotated it and it expired). */
  revoke(token: string): void;
  reviews: Review[];
  stop(): Promise<void>;
}

interface Issued {
  namespace: string;
  name: string;
  uid: string;
  audiences: string[];
  expiresAt: number;
  revoked: boolean;
}

/**
 * The part of a Kubernetes API server that Vault's Kubernetes auth method calls, as the real one
 * answers it: `POST /apis/authentication.k8s.io/v1/tokenreviews` over TLS, the caller
 * authenticated by a bearer token the server issued for its own audience (else `401` Status), the review
 * `201 Created` with `status.authenticated`, the user `system:serviceaccount:NS:NAME` and its
 * uid, and the audiences that matched. Tokens are real projected service-account JWTs
 * (`kubernetes.io` claims), signed with a key of the server's.
 */
export async function startKubernetesApi(): Promise<KubernetesApi> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const signingKeyPem = await exportSPKI(publicKey);
  const issued = new Map<string, Issued>();
  const serviceAccountUids = new Map<string, string>();
  const reviews: Review[] = [];
  const tls = selfSignedCert();

  const valid = (token: string): Issued | undefined => {
    const entry = issued.get(token);
    return entry && !entry.revoked && entry.expiresAt > Date.now() ? entry : undefined;
  };

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const statusFailure = (res: ServerResponse, code: number, reason: string, message: string) =>
    answer(res, code, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    });

  const handle = (req: Received, res: ServerResponse) => {
    if (req.url !== TOKEN_REVIEWS)
      return statusFailure(res, 404, 'NotFound', 'the server could not find the requested resource');
    if (req.method !== 'POST')
      return statusFailure(
        res,
        405,
        'MethodNotAllowed',
        'the server does not allow this method on the requested resource',
      );
    // Like the real API server: a bearer must be a live token for the API server's own audience
    // (a token projected for `vault` is refused here, so Vault needs a reviewer token).
    const bearer = /^Bearer (.+)$/.exec(String(req.headers['authorization'] ?? ''))?.[1];
    if (!bearer || !valid(bearer)?.audiences.includes(ISSUER)) {
      return statusFailure(res, 401, 'Unauthorized', 'Unauthorized');
    }
    let review: { apiVersion?: string; kind?: string; spec?: { token?: string; audiences?: string[] } };
    try {
      review = JSON.parse(req.body.toString()) as typeof review;
    } catch {
      return statusFailure(res, 400, 'BadRequest', 'the object provided is unrecognized');
    }
    const token = review.spec?.token ?? '';
    const wanted = review.spec?.audiences ?? [];
    const entry = valid(token);
    const matched = entry
      ? wanted.length === 0
        ? entry.audiences
        : wanted.filter((a) => entry.audiences.includes(a))
      : [];
    const authenticated = entry !== undefined && matched.length > 0;
    reviews.push({ token, reviewer: bearer, authenticated });
    const status = authenticated
      ? {
          authenticated: true,
          user: {
            username: `system:serviceaccount:${entry.namespace}:${entry.name}`,
            uid: entry.uid,
            groups: [
              'system:serviceaccounts',
              `system:serviceaccounts:${entry.namespace}`,
              'system:authenticated',
            ],
          },
          audiences: matched,
        }
      : {
          user: {},
          error: entry ? 'token audiences is invalid for the target audiences' : 'invalid bearer token',
        };
    answer(res, 201, {
      kind: 'TokenReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: review.spec ?? {},
      status,
    });
  };

  const server: FakeUpstream = await startTlsUpstream(tls, handle);
  return {
    url: server.origin,
    caCert: tls.cert,
    caFile: tls.certFile,
    signingKeyPem,
    audience: ISSUER,
    reviews,
    async issue(namespace, name, { audience = ISSUER, ttlSeconds = 3600 } = {}) {
      const key = `${namespace}/${name}`;
      const uid = serviceAccountUids.get(key) ?? randomUUID();
      serviceAccountUids.set(key, uid);
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({
        'kubernetes.io': {
          namespace,
          pod: { name: `${name}-${randomUUID().slice(0, 5)}`, uid: randomUUID() },
          serviceaccount: { name, uid },
        },
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'test' })
        .setIssuer(ISSUER)
        .setSubject(`system:serviceaccount:${namespace}:${name}`)
        .setAudience([audience])
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + ttlSeconds)
        .setJti(randomUUID())
        .sign(privateKey);
      issued.set(token, {
        namespace,
        name,
        uid,
        audiences: [audience],
        expiresAt: (now + ttlSeconds) * 1000,
        revoked: false,
      });
      return token;
    },
    revoke(token) {
      const entry = issued.get(token);
      if (entry) entry.revoked = true;
    },
    stop: () => server.stop(),
  };
}
