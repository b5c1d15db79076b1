import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { errors, type Dispatcher } from 'undici';
import { KeygateError } from '../errors.ts';
import { RawReply, type ProxyReply, type ProxyRequest } from '../http/exchange.ts';
import { callerResponseHeaders } from './headers.ts';
import { scrubResponseHeaders } from './scrub-response.ts';
import type { CallerGone, ReadyState } from './state.ts';
import { classifyUpstreamError } from './upstream-errors.ts';
import type { Outcome } from './outcome.ts';

/** A response we will not forward is read up to this much (so its connection is reused), then cut. */
const DRAIN_LIMIT = 64 * 1024;

// What the exchange is doing with the upstream's response body.
const WAITING = 0; // no response yet
const DISCARDING = 1; // a retry, a refresh or a reauth: read and dropped
const DIRECT = 2; // written straight to the caller's socket (the lean path)
const ADAPTED = 3; // pushed into a Readable the framework's reply sends (Fastify's path)

/**
 * Decides what an upstream answer means from its status and headers: an outcome
 * (retry, refresh, reauth), or undefined to forward it to the caller.
 */
export type Verdict = (statusCode: number, headers: IncomingHttpHeaders) => Outcome | undefined;

/**
 * One upstream request on undici's dispatcher, its answer written to the caller as it
 * arrives: no response stream, no pipe and no promise per request in between (undici's
 * `request()` made all three, and under load they outlived their requests long enough
 * to be promoted, so scavenges copied whole request graphs; docs/proxy.md#benchmark).
 * Back-pressure is undici's: the parser pauses while the caller's socket is full.
 * `settle` is called once, when the attempt's outcome is known; a body being forwarded
 * goes on after that until it ends, fails (the caller's connection is then cut, as the
 * status is out) or the caller hangs up (`abort`).
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  #mode = WAITING;
  #settled = false;
  #discarded = 0;
  #out: ServerResponse | undefined;
  #adapter: Readable | undefined;
  readonly #request: ProxyRequest;
  readonly #reply: ProxyReply;
  readonly #ready: ReadyState;
  readonly #callerGone: CallerGone;
  readonly #verdict: Verdict;
  readonly #settle: (outcome: Outcome) => void;
  readonly #onDrain = () => this.#controller?.resume();

  constructor(
    request: ProxyRequest,
    reply: ProxyReply,
    ready: ReadyState,
    callerGone: CallerGone,
    verdict: Verdict,
    settle: (outcome: Outcome) => void,
  ) {
    this.#request = request;
    this.#reply = reply;
    this.#ready = ready;
    this.#callerGone = callerGone;
    this.#verdict = verdict;
    this.#settle = settle;
  }

  /** The caller hung up: the upstream request is cancelled, whatever stage it is at. */
  abort(): void {
    const controller = this.#controller;
    if (controller && !controller.aborted) controller.abort(new errors.RequestAbortedError());
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#callerGone.aborted) controller.abort(new errors.RequestAbortedError());
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (statusCode < 200) return; // 1xx: informational, the answer is still to come
    if (this.#callerGone.aborted) {
      controller.abort(new errors.RequestAbortedError());
      return; // onResponseError settles it
    }
    const outcome = this.#verdict(statusCode, headers);
    if (outcome !== undefined) {
      this.#mode = DISCARDING;
      this.#finish(outcome);
      return;
    }
    const reply = this.#reply;
    try {
      reply.code(statusCode);
    } catch {
      // A status the caller's side cannot send (under 100 or over 599).
      this.#mode = DISCARDING;
      controller.abort(new errors.RequestAbortedError());
      const error = new KeygateError('upstream_unreachable', {
        message: 'The upstream sent an invalid status.',
      });
      const failure = {
        error,
        retryable: false,
        callerGone: false,
        cause: 'invalid status',
        errorCode: undefined,
      };
      this.#finish({ type: 'failed', failure });
      return;
    }
    // The one place the upstream's response headers are rewritten for the caller; the
    // injected secret never reaches the caller in a header (scrub-response.ts).
    reply.headers(scrubResponseHeaders(callerResponseHeaders(headers), this.#ready));
    // An HTTP/1 connection cannot be reused before its request body was read to the end.
    if (!this.#request.raw.complete) reply.header('connection', 'close');
    if (reply instanceof RawReply) {
      this.#mode = DIRECT;
      this.#out = reply.openBody();
    } else {
      this.#mode = ADAPTED;
      this.#adapter = new Readable({ read: () => controller.resume() });
      reply.send(this.#adapter);
    }
    this.#finish({ type: 'sent' });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#mode === DIRECT) {
      const out = this.#out as ServerResponse;
      if (!out.write(chunk)) {
        controller.pause();
        out.once('drain', this.#onDrain);
      }
    } else if (this.#mode === ADAPTED) {
      if (!(this.#adapter as Readable).push(chunk)) controller.pause();
    } else {
      this.#discarded += chunk.length;
      if (this.#discarded > DRAIN_LIMIT) controller.abort(new errors.RequestAbortedError());
    }
  }

  onResponseEnd(): void {
    if (this.#mode === DIRECT) (this.#out as ServerResponse).end();
    else if (this.#mode === ADAPTED) (this.#adapter as Readable).push(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    if (this.#mode === DIRECT) (this.#out as ServerResponse).destroy();
    else if (this.#mode === ADAPTED) (this.#adapter as Readable).destroy(error);
    else if (this.#mode === WAITING) {
      this.#finish({ type: 'failed', failure: classifyUpstreamError(error, this.#callerGone.aborted) });
    }
  }

  #finish(outcome: Outcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#settle(outcome);
  }
}
