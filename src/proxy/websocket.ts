import { request as httpRequest, ServerResponse, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { KeygateError } from '../errors.ts';
import { answerError, sendError } from '../http/error-handler.ts';
import { RawReply, RawRequest } from '../http/exchange.ts';
import type { Logger } from '../observability/logger.ts';
import { pathWithQuery } from './attempt.ts';
import { CALLER_CLOSED } from './audit.ts';
import { callerResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import { splitProxyUrl } from './path.ts';
import type { ProxyPipeline } from './pipeline.ts';
import { scrubResponseHeaders } from './scrub-response.ts';
import type { ProxyState, ReadyState } from './state.ts';
import { endClientSpan } from '../observability/tracing.ts';
import { startAttemptSpan } from './traces.ts';
import { classifyUpstreamError } from './upstream-errors.ts';

export interface WebSocketDeps {
  pipeline: ProxyPipeline;
  logger: Logger;
}

/** How one upstream handshake ended. */
type Handshake =
  | { type: 'upgraded'; res: IncomingMessage; socket: Socket; head: Buffer }
  | { type: 'refused'; status: number }
  | { type: 'failed'; error: KeygateError };

const SWITCHING = 101;

/**
 * `Upgrade: websocket` on `/proxy/{tenant}/{integration}/{path}`: the same steps as any
 * proxied request (pipeline.ts: caller, integration, account, credential, expiry
 * refresh, the reauth answer), answered on the caller's socket through a ServerResponse
 * of its own, so every refusal is the HTTP answer the HTTP route would give. Then the
 * upstream handshake is sent with the credential injected (header or query) and the
 * caller's credentials stripped; a 401 to it gets the one refresh-and-replay, then the
 * reauth answer, as over HTTP. Only once the upstream has switched protocols does the
 * caller get its 101; from then on the two sockets are piped both ways, frames
 * untouched, until either side closes. Node sends every upgrade request here (Fastify
 * routes none), so an upgrade elsewhere is a 404.
 */
export class WebSocketProxy {
  readonly #pipeline: ProxyPipeline;
  readonly #logger: Logger;
  readonly #live = new Set<Duplex>();

  constructor({ pipeline, logger }: WebSocketDeps) {
    this.#pipeline = pipeline;
    this.#logger = logger;
  }

  /** The server's `upgrade` listener. */
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const request = new RawRequest(req);
    // Answers that refuse the upgrade are plain HTTP on the caller's socket, then it closes.
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.once('finish', () => socket.end());
    res.on('error', () => socket.destroy()); // the caller left while its answer was written
    const reply = new RawReply(res, request);
    const target = splitProxyUrl(req.url ?? '');
    const state = this.#pipeline.begin(request, target, 'websocket');
    let finished = false;
    const finish = (status: number) => {
      if (finished) return;
      finished = true;
      this.#pipeline.finish(request, reply, state, status);
    };
    // Answered (a refusal or the reauth answer): audited once the answer is out or the caller left.
    res.once('close', () => finish(res.writableFinished ? reply.statusCode : CALLER_CLOSED));
    socket.once('close', () => {
      state.callerGone.abort();
      state.exchange?.abort();
    });
    this.#serve(request, reply, state, socket, head, finish).catch((err: unknown) => {
      if (!reply.sent && !socket.destroyed) answerError(this.#logger, reply, err);
      else socket.destroy();
    });
  };

  /** Cuts every open WebSocket (on shutdown: they are no longer the HTTP server's to close). */
  closeAll(): void {
    for (const socket of this.#live) socket.destroy();
  }

  async #serve(
    request: RawRequest,
    reply: RawReply,
    state: ProxyState,
    socket: Duplex,
    head: Buffer,
    finish: (status: number) => void,
  ): Promise<void> {
    const pipeline = this.#pipeline;
    if (!state.target) throw new KeygateError('not_found');
    if (!(await pipeline.prepare(request, reply, state))) return;
    for (;;) {
      if (state.callerGone.aborted) return;
      const turn = pipeline.admit(state); // the upstream budget, as for an HTTP attempt
      if (turn) await turn;
      const outcome = await this.#handshake(request, state);
      if (socket.destroyed || state.callerGone.aborted) {
        if (outcome.type === 'upgraded') outcome.socket.destroy();
        finish(CALLER_CLOSED); // the caller left during the handshake (nginx's 499)
        return;
      }
      if (outcome.type === 'failed') {
        sendError(reply, outcome.error);
        return;
      }
      if (outcome.type === 'upgraded') {
        this.#switch(request, reply, state, socket, head, outcome, finish);
        return;
      }
      const next = outcome.status === 401 ? pipeline.onRejected(state, true) : undefined;
      if (next === 'refresh') {
        const result = await pipeline.refreshRejected(request, reply, state);
        if (result === 'answered') return;
        if (result instanceof KeygateError) {
          sendError(reply, result);
          return;
        }
        continue;
      }
      if (next === 'reauth') {
        await pipeline.answerReauth(request, reply, state);
        return;
      }
      const message = `The upstream refused the WebSocket handshake (HTTP ${outcome.status}).`;
      sendError(reply, new KeygateError('upstream_handshake_failed', { message }));
      return;
    }
  }

  /** One upstream handshake with the credential injected; resolves once the upstream has answered. */
  #handshake(request: RawRequest, state: ProxyState): Promise<Handshake> {
    const ready = state.ready as ReadyState;
    const { upstream, plan, token } = ready;
    state.attempts += 1;
    // The caller's headers minus its credentials and hop-by-hop fields, the credential
    // injected; the handshake's own hop-by-hop pair is put back.
    const headers = upstreamRequestHeaders(request.headers, plan, token, undefined);
    Object.assign(headers, { host: upstream.host, connection: 'Upgrade', upgrade: 'websocket' });
    const span = state.span && startAttemptSpan(state, 'GET', headers);
    const url = new URL(upstream.origin);
    const options = {
      host: url.hostname,
      port: url.port,
      path: pathWithQuery(ready, token),
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
    const started = performance.now();
    return new Promise<Handshake>((resolve) => {
      let settled = false; // destroying the request can raise an 'error' of its own
      const settle = (outcome: Handshake) => {
        if (settled) return;
        settled = true;
        state.exchange = undefined;
        state.upstreamMs += performance.now() - started;
        if (span) {
          if (outcome.type === 'failed') endClientSpan(span, undefined, outcome.error);
          else endClientSpan(span, outcome.type === 'refused' ? outcome.status : SWITCHING);
        }
        out.setTimeout(0);
        if (outcome.type !== 'upgraded') out.destroy();
        resolve(outcome);
      };
      state.exchange = {
        abort: () => settle({ type: 'failed', error: new KeygateError('client_closed_request') }),
      };
      const message = 'The upstream did not answer the WebSocket handshake in time.';
      out.setTimeout(timeoutMs, () =>
        settle({ type: 'failed', error: new KeygateError('upstream_timeout', { message }) }),
      );
      out.on('error', (err) => settle({ type: 'failed', error: classifyUpstreamError(err, false).error }));
      out.on('response', (res) => {
        res.resume(); // a refused handshake: its body is not the caller's business
        this.#pipeline.learn(state, res.statusCode ?? 0, res.headers);
        settle({ type: 'refused', status: res.statusCode ?? 0 });
      });
      out.on('upgrade', (res, socket, head) => {
        this.#pipeline.learn(state, res.statusCode ?? 101, res.headers);
        settle({ type: 'upgraded', res, socket, head });
      });
      out.end();
    });
  }

  /** The upstream switched protocols: the caller gets its 101, then the sockets are piped. */
  #switch(
    request: RawRequest,
    reply: RawReply,
    state: ProxyState,
    socket: Duplex,
    head: Buffer,
    upgraded: Extract<Handshake, { type: 'upgraded' }>,
    finish: (status: number) => void,
  ): void {
    const ready = state.ready as ReadyState;
    const answer = scrubResponseHeaders(callerResponseHeaders(upgraded.res.headers), ready);
    reply.code(SWITCHING);
    socket.write(head101(answer, request.id));
    if (upgraded.head.length > 0) socket.write(upgraded.head);
    if (head.length > 0) upgraded.socket.write(head);
    // The ServerResponse is not the caller's answer any more; the pipe is.
    reply.raw.detachSocket(socket as Socket);
    this.#pipe(socket, upgraded.socket, () => finish(SWITCHING));
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
