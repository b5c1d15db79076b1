import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';

/** Why an issuer document could not be used; never holds a secret (there is none in it). */
export class IssuerFetchError extends Error {
  override readonly name = 'IssuerFetchError';
}

export interface FetchLimits {
  /** The whole exchange (connect, headers, body) within this. */
  timeoutMs: number;
  /** A larger body is cut off and refused. */
  maxBytes: number;
  /** A CA (PEM) trusted besides the system's. */
  ca?: string | undefined;
}

/**
 * GETs from issuers (discovery documents, key sets): TLS verified, no redirects, every
 * wait bounded, the body read up to a size and parsed as JSON. A hanging or flooding
 * issuer costs one bounded request, never a stuck caller or a swollen heap.
 */
export class IssuerFetcher {
  readonly #agent: Agent;
  readonly #limits: FetchLimits;

  constructor(limits: FetchLimits) {
    this.#limits = limits;
    const { timeoutMs, ca } = limits;
    this.#agent = new Agent({
      connections: 4,
      connect: { rejectUnauthorized: true, ...(ca ? { ca: [...rootCertificates, ca] } : {}) },
      connectTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 10_000,
    });
  }

  async json(url: string): Promise<unknown> {
    const { timeoutMs, maxBytes } = this.#limits;
    const signal = AbortSignal.timeout(timeoutMs);
    let res;
    try {
      res = await request(url, {
        method: 'GET',
        dispatcher: this.#agent,
        signal,
        headers: { accept: 'application/json, application/jwk-set+json', 'user-agent': 'keygate' },
      });
    } catch (err) {
      throw new IssuerFetchError(signal.aborted ? 'timed out' : `unreachable (${codeOf(err)})`);
    }
    const { statusCode, headers, body } = res;
    // Destroying the body below makes undici emit an abort error: ours, expected.
    body.on('error', () => {});
    try {
      if (statusCode !== 200) throw new IssuerFetchError(`answered HTTP ${statusCode}`);
      const declared = Number(headers['content-length'] ?? 0);
      if (declared > maxBytes) throw new IssuerFetchError(`answer larger than ${maxBytes} bytes`);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) throw new IssuerFetchError(`answer larger than ${maxBytes} bytes`);
        chunks.push(chunk);
      }
      try {
        return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      } catch {
        throw new IssuerFetchError('answered something that is not JSON');
      }
    } catch (err) {
      body.destroy();
      if (err instanceof IssuerFetchError) throw err;
      throw new IssuerFetchError(signal.aborted ? 'timed out' : `failed mid-answer (${codeOf(err)})`);
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

const codeOf = (err: unknown) =>
  (err as { code?: string; cause?: { code?: string } }).cause?.code ??
  (err as { code?: string }).code ??
  'error';
