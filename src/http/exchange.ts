import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { requestIdOf } from './request-id.ts';

type HeaderValue = string | number | readonly string[];

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/** What the proxy reads of a request: a subset of FastifyRequest, which satisfies it. */
export interface ProxyRequest {
  readonly id: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: IncomingMessage;
  readonly ip: string;
  readonly body: unknown;
  readonly protocol: string;
  readonly host: string;
}

/** What the proxy does with a reply: a subset of FastifyReply, which satisfies it. */
export interface ProxyReply {
  readonly raw: ServerResponse;
  readonly request: ProxyRequest;
  readonly statusCode: number;
  readonly sent: boolean;
  code(status: number): unknown;
  header(name: string, value: HeaderValue): unknown;
  headers(values: Record<string, HeaderValue | undefined>): unknown;
  getHeader(name: string): unknown;
  hasHeader(name: string): boolean;
  send(payload?: unknown): unknown;
}

// Fastify's rule for which requests have a body its content-type parsers see
// (lib/handle-request.js), kept so both paths hand the proxy the same body.
const BODYLESS = new Set(['GET', 'HEAD', 'TRACE']);

function bodyOf(req: IncomingMessage): IncomingMessage | undefined {
  if (BODYLESS.has(req.method ?? '')) return undefined;
  const { headers } = req;
  if (headers['content-type'] !== undefined) return req;
  const length = headers['content-length'];
  const empty = headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
  return empty ? undefined : req;
}

/** A request served on the lean path: what Fastify's request would have held, made at no cost beyond it. */
export class RawRequest implements ProxyRequest {
  readonly id: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: IncomingMessage;
  readonly body: IncomingMessage | undefined;
  /** The proxy's per-request state (src/proxy/plugin.ts), as Fastify's request decoration holds it. */
  keygateProxy: unknown = null;

  constructor(raw: IncomingMessage) {
    this.raw = raw;
    this.id = requestIdOf(raw);
    this.method = raw.method ?? 'GET';
    this.headers = raw.headers;
    this.body = bodyOf(raw);
  }

  get ip(): string {
    return this.raw.socket.remoteAddress ?? '';
  }

  get protocol(): string {
    return (this.raw.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  }

  get host(): string {
    return this.raw.headers.host ?? '';
  }
}

/**
 * The reply of a lean-path request: Fastify's reply semantics for what the proxy uses
 * (lower-cased header names, a status Fastify refuses is refused, objects sent as JSON,
 * a streamed body written through `openBody`), writing the head once with every header, as Node likes best.
 */
export class RawReply implements ProxyReply {
  readonly raw: ServerResponse;
  readonly request: RawRequest;
  statusCode = 200;
  #sent = false;
  // Null-prototype: header names come from upstreams, and `__proto__` must stay a plain key.
  readonly #headers: Record<string, HeaderValue> = Object.create(null) as Record<string, HeaderValue>;

  constructor(raw: ServerResponse, request: RawRequest) {
    this.raw = raw;
    this.request = request;
    this.#headers['x-request-id'] = request.id;
  }

  get sent(): boolean {
    return this.#sent;
  }

  code(status: number): this {
    // As Fastify's FST_ERR_BAD_STATUS_CODE: the caller decides what to do instead.
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new RangeError(`invalid status code ${status}`);
    }
    this.statusCode = status;
    return this;
  }

  header(name: string, value: HeaderValue): this {
    this.#headers[name.toLowerCase()] = value;
    return this;
  }

  headers(values: Record<string, HeaderValue | undefined>): this {
    for (const name in values) {
      const value = values[name];
      if (value !== undefined) this.#headers[name.toLowerCase()] = value;
    }
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.#headers[name.toLowerCase()];
  }

  hasHeader(name: string): boolean {
    return this.#headers[name.toLowerCase()] !== undefined;
  }

  /**
   * Writes the head with every header set so far and hands over the response for the
   * body, which the caller of this writes and ends (the proxy, as the upstream's
   * answer arrives: src/proxy/upstream-exchange.ts).
   */
  openBody(): ServerResponse {
    this.#sent = true;
    this.raw.writeHead(this.statusCode, this.#headers as Record<string, string | number | string[]>);
    return this.raw;
  }

  send(payload?: unknown): this {
    if (this.#sent) return this;
    this.#sent = true;
    const res = this.raw;
    const headers = this.#headers;
    let body: string | Buffer | undefined;
    if (payload === undefined || payload === null) body = undefined;
    else if (Buffer.isBuffer(payload)) body = payload;
    else {
      const text = typeof payload === 'string';
      body = text ? payload : JSON.stringify(payload);
      const type = headers['content-type'];
      if (type === undefined) headers['content-type'] = text ? TEXT : JSON_TYPE;
      // Fastify's rule (lib/reply.js): a JSON media type without a charset gets utf-8.
      else if (typeof type === 'string' && type.includes('json') && !/charset/i.test(type)) {
        headers['content-type'] = `${type.trim().replace(/;$/, '')}; charset=utf-8`;
      }
    }
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    else if (this.statusCode !== 204 && this.statusCode !== 304) headers['content-length'] = 0;
    res.writeHead(this.statusCode, headers as Record<string, string | number | string[]>);
    res.end(body);
    return this;
  }
}
