import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Pool, type Dispatcher } from 'undici';
import type { Config, IntegrationConfig } from '../config/schema.ts';

/** Where one integration's requests go, and the pool that carries them. */
export interface Upstream {
  origin: string;
  /** The base URL's path without a trailing slash; '' at the root. */
  basePath: string;
  pool: Pool;
}

interface Current {
  upstream: Upstream;
  signal: AbortSignal;
}

type Callback = (err: Error | null, data?: Dispatcher.ResponseData) => void;

/**
 * One undici pool per integration, every option chosen here rather than left to
 * reply-from's defaults (which turn TLS verification off and retry GETs on 503).
 * reply-from is given `dispatcher`, which sends each request through the pool of the
 * integration being served and with the caller's abort signal, so a caller who hangs
 * up cancels the upstream request, and nothing can reach an origin that is not configured.
 */
export class Upstreams {
  readonly #byIntegration = new Map<string, Upstream>();
  readonly #current = new AsyncLocalStorage<Current>();

  constructor(config: Readonly<Config>) {
    const defaults = config.proxy.upstream;
    for (const [name, integration] of Object.entries(config.integrations)) {
      const url = new URL(integration.baseUrl);
      this.#byIntegration.set(name, {
        origin: url.origin,
        basePath: url.pathname.replace(/\/+$/, ''),
        pool: new Pool(url.origin, poolOptions(integration, defaults)),
      });
    }
  }

  get(integration: string): Upstream | undefined {
    return this.#byIntegration.get(integration);
  }

  /** Runs `send` (a reply.from call) so that its request uses `upstream`'s pool and `signal`. */
  with<T>(upstream: Upstream, signal: AbortSignal, send: () => T): T {
    return this.#current.run({ upstream, signal }, send);
  }

  /** What reply-from is given as its `undici` option: it only needs `request` and `destroy`. */
  readonly dispatcher = {
    request: (options: Dispatcher.RequestOptions, callback: Callback): void => {
      const current = this.#current.getStore();
      // reply-from passes the URL's serialised origin, so a string comparison is exact.
      if (!current || String(options.origin) !== current.upstream.origin) {
        callback(new Error('refused: the request is not for the integration being served'));
        return;
      }
      current.upstream.pool.request({ ...options, signal: current.signal }, callback);
    },
    destroy: (): Promise<void> => this.close(),
  };

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
