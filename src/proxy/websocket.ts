import { randomUUID } from 'node:crypto';
import { request as httpRequest, STATUS_CODES, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/schema.ts';
import { NAME_PATTERN } from '../config/schema.ts';
import type { Credential } from '../credentials/types.ts';
import { KeygateError } from '../errors.ts';
import { toKeygateError } from '../http/error-handler.ts';
import { ACCOUNT_HEADER, accountFor } from '../identity/account.ts';
import type { CallerAuthenticator } from '../identity/caller.ts';
import type { Logger } from '../observability/logger.ts';
import { pathWithQuery } from './attempt.ts';
import { CALLER_CLOSED } from './audit.ts';
import { callerResponseHeaders, upstreamRequestHeaders, type UpstreamHeaderPlan } from './headers.ts';
import { tokenOf } from './inject.ts';
import { splitProxyUrl, withoutQueryParam } from './path.ts';
import { scrubResponseHeaders } from './scrub-response.ts';
import { classifyUpstreamError } from './upstream-errors.ts';
import type { Upstream, Upstreams } from './upstreams.ts';

export interface WebSocketDeps {
  config: Readonly<Config>;
  logger: Logger;
  callers: CallerAuthenticator;
  store: { get(tenant: string, integration: string, account?: string): Promise<Credential> };
  upstreams: Upstreams;
  plans: ReadonlyMap<string, UpstreamHeaderPlan>;
}

interface Handshake {
  upstream: Upstream;
  plan: UpstreamHeaderPlan;
  credential: Credential;
  token: string;
  path: string;
}

const NAME = new RegExp(NAME_PATTERN);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * `Upgrade: websocket` on `/proxy/{tenant}/{integration}/{path}`: the caller is
 * authenticated and the credential fetched as for any proxied request, then the
 * upstream handshake is sent with the credential injected (header or query) and the
 * caller's credentials stripped. Only once the upstream has switched protocols does
 * the caller get its 101; from then on the two sockets are piped both ways, frames
 * untouched, until either side closes. Anything that fails before is an HTTP error
 * with `x-keygate-error`, as for any request. Node sends every upgrade request here
 * (Fastify routes none), so an upgrade elsewhere is a 404.
 */
export class WebSocketProxy {
  readonly #deps: WebSocketDeps;
  readonly #live = new Set<Duplex>();

  constructor(deps: WebSocketDeps) {
    this.#deps = deps;
  }

  /** The server's `upgrade` listener. */
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const started = performance.now();
    const target = splitProxyUrl(req.url ?? '');
    const audit = (status: number) =>
      this.#audit(
        requestId,
        target?.tenant ?? '',
        target?.integration ?? '',
        target?.rest || '/',
        status,
        started,
      );
    socket.on('error', () => socket.destroy());
    this.#handshake(req, target)
      .then((handshake) => this.#connect(req, socket, head, handshake, requestId, audit))
      .catch((err: unknown) => {
        const error = toKeygateError(err);
        refuse(socket, error, requestId);
        audit(error.statusCode);
      });
  };

  /** Cuts every open WebSocket (on shutdown: they are no longer the HTTP server's to close). */
  closeAll(): void {
    for (const socket of this.#live) socket.destroy();
  }

  async #handshake(req: IncomingMessage, target: ReturnType<typeof splitProxyUrl>): Promise<Handshake> {
    if (!target) throw new KeygateError('not_found');
    if (!NAME.test(target.tenant) || !NAME.test(target.integration)) throw new KeygateError('invalid_name');
    if (req.method !== 'GET' || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
      throw new KeygateError('bad_request', { message: 'Only WebSocket upgrades (GET) are proxied.' });
    }
    const { callers, store, upstreams, plans } = this.#deps;
    const address = req.socket.remoteAddress ?? '';
    const caller = await callers.authenticate(req.headers, address, target.tenant, target.integration);
    const account = accountFor(caller, req.headers[ACCOUNT_HEADER]);
    const upstream = upstreams.get(target.integration);
    const plan = plans.get(target.integration);
    if (!upstream || !plan) throw new KeygateError('unknown_integration');
    const upstreamPath = upstream.pathFor(target.rest);
    const credential = await store.get(target.tenant, target.integration, account);
    const token = tokenOf(credential);
    const name = plan.injector.query;
    const query = name === undefined ? target.query : withoutQueryParam(target.query, name);
    return { upstream, plan, credential, token, path: pathWithQuery({ upstreamPath, query, plan }, token) };
  }

  #connect(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    handshake: Handshake,
    requestId: string,
    audit: (status: number) => void,
  ): void {
    const { upstream, plan, token } = handshake;
    // The caller's headers minus its credentials and hop-by-hop fields, the credential
    // injected; the handshake's own hop-by-hop pair is put back.
    const headers = upstreamRequestHeaders(req.headers, plan, token, undefined);
    Object.assign(headers, { host: upstream.host, connection: 'Upgrade', upgrade: 'websocket' });
    const url = new URL(upstream.origin);
    const options = {
      host: url.hostname,
      port: url.port,
      path: handshake.path,
      method: 'GET',
      headers: headers as Record<string, string | string[]>,
      agent: false as const,
    };
    const { ca, timeoutMs } = upstream.handshake;
    // The same trust as the integration's pool: the system's CAs plus its caFile.
    const out: ClientRequest =
      url.protocol === 'https:'
        ? httpsRequest({ ...options, rejectUnauthorized: true, ...(ca ? { ca } : {}) })
        : httpRequest(options);
    let settled = false; // destroying the request can raise an 'error' of its own
    const fail = (error: KeygateError) => {
      if (settled) return;
      settled = true;
      out.destroy();
      refuse(socket, error, requestId);
      audit(error.statusCode);
    };
    const message = 'The upstream did not answer the WebSocket handshake in time.';
    out.setTimeout(timeoutMs, () => fail(new KeygateError('upstream_timeout', { message })));
    out.on('error', (err) => fail(classifyUpstreamError(err, false).error));
    out.on('response', (res) => {
      res.resume(); // a refused handshake: its body is not the caller's business
      const message = `The upstream refused the WebSocket handshake (HTTP ${res.statusCode ?? 0}).`;
      fail(new KeygateError('upstream_handshake_failed', { message }));
    });
    out.on('upgrade', (res, upSocket, upHead) => {
      settled = true;
      out.setTimeout(0);
      if (socket.destroyed) {
        upSocket.destroy();
        return;
      }
      const answer = scrubResponseHeaders(callerResponseHeaders(res.headers), handshake);
      socket.write(head101(answer, requestId));
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      this.#pipe(socket, upSocket, () => audit(101));
    });
    socket.once('close', () => {
      if (settled) return;
      settled = true; // the caller left during the handshake (nginx's 499)
      out.destroy();
      audit(CALLER_CLOSED);
    });
    out.end();
  }

  #pipe(caller: Duplex, upstream: Socket, done: () => void): void {
    this.#live.add(caller).add(upstream);
    for (const s of [caller, upstream] as Array<Duplex & Partial<Socket>>) {
      s.setTimeout?.(0); // a quiet WebSocket is not an idle HTTP connection
      s.setNoDelay?.(true);
    }
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      caller.destroy();
      upstream.destroy();
      this.#live.delete(caller);
      this.#live.delete(upstream);
      done();
    };
    caller.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    caller.pipe(upstream);
    upstream.pipe(caller);
  }

  #audit(
    requestId: string,
    tenant: string,
    integration: string,
    path: string,
    status: number,
    started: number,
  ) {
    const { logger } = this.#deps;
    if (!logger.isInfoEnabled()) return;
    logger.info({
      message: 'proxy websocket',
      event: 'proxy_request',
      requestId,
      tenant: tenant.slice(0, 64),
      integration: integration.slice(0, 64),
      method: 'GET',
      path: path.slice(0, 512),
      websocket: true,
      status,
      attempts: 1,
      totalMs: Math.round(performance.now() - started),
    });
  }
}

function head101(headers: Record<string, unknown>, requestId: string): string {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'connection: Upgrade', 'upgrade: websocket'];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(v)}`);
  }
  lines.push(`x-request-id: ${requestId}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The contract's JSON error on a socket that never became a WebSocket. */
function refuse(socket: Duplex, error: KeygateError, requestId: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code: error.code, message: error.message, requestId } });
  const lines = [
    `HTTP/1.1 ${error.statusCode} ${STATUS_CODES[error.statusCode] ?? ''}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-keygate-error: ${error.code}`,
    `x-request-id: ${requestId}`,
    'connection: close',
  ];
  if (error.retryAfter !== undefined) lines.push(`retry-after: ${Math.max(0, Math.ceil(error.retryAfter))}`);
  for (const [name, value] of Object.entries(error.headers ?? {})) lines.push(`${name}: ${value}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
