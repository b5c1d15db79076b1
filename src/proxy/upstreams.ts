import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Pool } from 'undici';
import type { Config, IntegrationConfig } from '../config/schema.ts';
import { checkedPathFor } from './path.ts';

/** Where one integration's requests go, and the pool that carries them. */
export interface Upstream {
  origin: string;
  /** What the upstream request's Host header says. */
  host: string;
  /** The base URL's path without a trailing slash; '' at the root. */
  basePath: string;
  /** The upstream path for a caller's path below the integration; throws invalid_path (see path.ts). */
  pathFor: (rest: string) => string;
  pool: Pool;
  /** What a WebSocket handshake (not sent through the pool) needs of the pool's options. */
  handshake: { timeoutMs: number; ca: string[] | undefined };
}

/**
 * One undici pool per integration, every option chosen here rather than left to a
 * library's defaults. A request can only go to the pool of the integration being
 * served (the pool is bound to its origin), so nothing reaches an origin that is not
 * configured.
 */
export class Upstreams {
  readonly #byIntegration = new Map<string, Upstream>();

  constructor(config: Readonly<Config>) {
    const defaults = config.proxy.upstream;
    for (const [name, integration] of Object.entries(config.integrations)) {
      const url = new URL(integration.baseUrl);
      const basePath = url.pathname.replace(/\/+$/, '');
      const options = poolOptions(integration, defaults);
      const connect = options.connect as { timeout: number; ca?: string[] };
      this.#byIntegration.set(name, {
        origin: url.origin,
        host: url.host,
        basePath,
        pathFor: checkedPathFor(url.origin, basePath),
        pool: new Pool(url.origin, options),
        handshake: { timeoutMs: connect.timeout + (options.headersTimeout ?? 0), ca: connect.ca },
      });
    }
  }

  get(integration: string): Upstream | undefined {
    return this.#byIntegration.get(integration);
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.#byIntegration.values()].map((u) => u.pool.close().catch(() => u.pool.destroy())),
    );
  }
}

function poolOptions(integration: IntegrationConfig, defaults: Config['proxy']['upstream']): Pool.Options {
  const own = integration.upstream ?? {};
  const caFile = own.caFile;
  return {
    connections: own.connections ?? defaults.connections,
    pipelining: 1, // no pipelining: one slow answer must not hold up the ones behind it
    allowH2: false,
    keepAliveTimeout: own.keepAliveTimeoutMs ?? defaults.keepAliveTimeoutMs,
    keepAliveMaxTimeout: own.keepAliveTimeoutMs ?? defaults.keepAliveTimeoutMs,
    headersTimeout: own.headersTimeoutMs ?? defaults.headersTimeoutMs,
    bodyTimeout: own.bodyTimeoutMs ?? defaults.bodyTimeoutMs,
    strictContentLength: true,
    connect: {
      timeout: own.connectTimeoutMs ?? defaults.connectTimeoutMs,
      rejectUnauthorized: true,
      // A configured CA is trusted in addition to the system's, not instead of them.
      ...(caFile ? { ca: [...rootCertificates, readFileSync(caFile, 'utf8')] } : {}),
    },
  };
}
