import type { IncomingHttpHeaders } from 'node:http';
import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { isKeygateError } from '../errors.ts';
import { scrubString } from './redact.ts';
import type { TracingOptions } from './tracing-options.ts';

/**
 * OpenTelemetry traces for Keygate: the span helpers every part uses, with `@opentelemetry/api`
 * only. The SDK and the OTLP exporter are in tracing-sdk.ts, imported by startTracing() when an
 * endpoint is configured and never otherwise, so a Keygate without telemetry loads no SDK and
 * pays one boolean test per span site (`tracing.enabled`).
 *
 * Attributes follow the OpenTelemetry HTTP semantic conventions, plus `keygate.tenant`,
 * `keygate.integration`, `keygate.account`. Never a secret, a query string or a header value:
 * the helpers take paths and URLs and drop the query themselves.
 */

export type { Span, SpanContext } from '@opentelemetry/api';
export type { TracingOptions } from './tracing-options.ts';

const state = { enabled: false };

/** True while an exporter is installed (telemetry.otlp.endpoint set); test it before any other call on a hot path. */
export const tracing: { readonly enabled: boolean } = state;

/** The running exporter: flush() sends what is buffered; shutdown() flushes and uninstalls it. */
export interface Telemetry {
  readonly enabled: boolean;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const OFF: Telemetry = { enabled: false, flush: async () => {}, shutdown: async () => {} };

interface Installed {
  refs: number;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}
let installed: Promise<Installed> | undefined;

/**
 * Installs the SDK (tracer provider, W3C trace-context propagator, async-local context) and an
 * OTLP/HTTP exporter, loading them only now; without `options` nothing is loaded and the
 * answer is a Telemetry that does nothing. Keygates in one process share one installation.
 */
export async function startTracing(options: TracingOptions | undefined): Promise<Telemetry> {
  if (!options) return OFF;
  installed ??= import('./tracing-sdk.ts').then((sdk) => ({ refs: 0, ...sdk.installSdk(options) }));
  const sdk = await installed;
  sdk.refs += 1;
  state.enabled = true;
  let stopped = false;
  return {
    enabled: true,
    flush: () => sdk.flush(),
    async shutdown() {
      if (stopped) return;
      stopped = true;
      sdk.refs -= 1;
      if (sdk.refs > 0) return sdk.flush();
      state.enabled = false;
      installed = undefined;
      await sdk.shutdown();
    },
  };
}

const TRACER = 'keygate';
const tracer = () => trace.getTracer(TRACER);

/** A span that records nothing: what the helpers hand out while tracing is off. */
export const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** The request as the server span needs it; `path` may carry a query, which is dropped. */
export interface ServerRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** `http.route`, e.g. `/proxy/{tenant}/{integration}/{path}`; also names the span. */
  route: string;
  scheme?: 'http' | 'https';
  /** Keygate's own address as the caller reached it (`server.address`, `server.port`). */
  serverAddress?: string;
  serverPort?: number;
  /** The caller's socket address (`client.address`). */
  clientAddress?: string;
}

/** Whose request it is: `keygate.tenant`, `keygate.integration`, `keygate.account`. */
export interface KeygateAttributes {
  tenant?: string | undefined;
  integration?: string | undefined;
  account?: string | undefined;
}

/** Starts the SERVER span of an incoming request, continuing the caller's W3C `traceparent` (and `tracestate`). */
export function startServerSpan(request: ServerRequest, who: KeygateAttributes = {}): Span {
  const parent = propagation.extract(ROOT_CONTEXT, request.headers);
  const attributes: Attributes = {
    'http.request.method': request.method,
    'url.path': scrubString(withoutQuery(request.path)),
    'url.scheme': request.scheme ?? 'http',
    'http.route': request.route,
  };
  if (request.serverAddress !== undefined) attributes['server.address'] = request.serverAddress;
  if (request.serverPort !== undefined) attributes['server.port'] = request.serverPort;
  if (request.clientAddress !== undefined) attributes['client.address'] = request.clientAddress;
  addKeygate(attributes, who);
  return tracer().startSpan(
    `${request.method} ${request.route}`,
    { kind: SpanKind.SERVER, attributes },
    parent,
  );
}

/** The outgoing request as a client span needs it. */
export interface ClientRequest {
  method: string;
  /** The upstream URL; its query (where an injected API key may be) is dropped. */
  url: URL | string;
  /** 1 for the first attempt; later ones set `http.request.resend_count`. */
  attempt?: number;
  /** `url.full` is the origin only (a receiver's path may hold a token of its own). */
  originOnly?: boolean;
  /** Start a new trace linked to this span context (work queued by one trace, done later). */
  follows?: SpanContext | undefined;
}

/** Starts a CLIENT span for one upstream attempt, child of `parent` (default: the active span). */
export function startClientSpan(request: ClientRequest, who: KeygateAttributes = {}, parent?: Span): Span {
  const url = typeof request.url === 'string' ? new URL(request.url) : request.url;
  const attributes: Attributes = {
    'http.request.method': request.method,
    'server.address': url.hostname,
    'server.port': url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
    'url.full': request.originOnly ? url.origin : scrubString(`${url.origin}${url.pathname}`),
  };
  if (request.attempt !== undefined && request.attempt > 1) {
    attributes['http.request.resend_count'] = request.attempt - 1;
  }
  addKeygate(attributes, who);
  if (request.follows) {
    const links = [{ context: request.follows }];
    return tracer().startSpan(request.method, { kind: SpanKind.CLIENT, attributes, links }, ROOT_CONTEXT);
  }
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  return tracer().startSpan(request.method, { kind: SpanKind.CLIENT, attributes }, ctx);
}

/** The active span's context when it records (to link work it queues), else undefined. */
export function activeSpanContext(): SpanContext | undefined {
  if (!state.enabled) return undefined;
  const span = trace.getSpan(context.active());
  return span?.isRecording() ? span.spanContext() : undefined;
}

/** Writes `span`'s `traceparent` (and `tracestate`) into outgoing headers, replacing the caller's. */
export function injectTraceContext(span: Span, headers: Record<string, string | string[]>): void {
  delete headers['tracestate'];
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
}

/** Ends a SERVER span with `http.response.status_code`; a 5xx (or `error`) marks it failed. */
export function endServerSpan(span: Span, status: number | undefined, error?: unknown): void {
  endHttpSpan(span, status, error, 500);
}

/** Ends a CLIENT span with `http.response.status_code`; a 4xx or 5xx (or `error`) marks it failed. */
export function endClientSpan(span: Span, status: number | undefined, error?: unknown): void {
  endHttpSpan(span, status, error, 400);
}

function endHttpSpan(span: Span, status: number | undefined, error: unknown, failFrom: number): void {
  if (status !== undefined) span.setAttribute('http.response.status_code', status);
  if (error !== undefined) failSpan(span, error);
  else if (status !== undefined && status >= failFrom) {
    span.setAttribute('error.type', String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/**
 * Marks a span failed with `error.type`: a KeygateError's code, else an `code` property
 * (`ECONNREFUSED`, `UND_ERR_...`), else the error's class name. Never its message.
 */
export function failSpan(span: Span, error: unknown): void {
  span.setAttribute('error.type', errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/** Runs `fn` with `span` as the active span, so spans started inside it (refresh, Vault) are its children. */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

export interface InSpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  who?: KeygateAttributes;
  /** Start a new trace even when a span is active (a scheduled job is nobody's child). */
  root?: boolean;
}

/**
 * Runs `fn` inside a new active span named `name`, ended when `fn` settles; a throw marks it
 * failed (see failSpan) and is rethrown. With tracing off, `fn` gets NOOP_SPAN and nothing else happens.
 */
export function inSpan<T>(name: string, options: InSpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  if (!state.enabled) return fn(NOOP_SPAN);
  const attributes: Attributes = { ...options.attributes };
  if (options.who) addKeygate(attributes, options.who);
  const parent = options.root ? ROOT_CONTEXT : context.active();
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes }, parent);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * A child of the active span, or undefined when there is none (or tracing is off): for calls
 * worth tracing inside a request or a job but not on their own (Vault calls, polls).
 */
export function startChildSpan(name: string, kind: SpanKind, attributes: Attributes): Span | undefined {
  if (!state.enabled) return undefined;
  const active = context.active();
  const parent = trace.getSpan(active);
  if (!parent?.isRecording()) return undefined;
  return tracer().startSpan(name, { kind, attributes }, active);
}

export { SpanKind, SpanStatusCode };

function addKeygate(attributes: Attributes, who: KeygateAttributes): void {
  if (who.tenant !== undefined) attributes['keygate.tenant'] = who.tenant;
  if (who.integration !== undefined) attributes['keygate.integration'] = who.integration;
  if (who.account !== undefined) attributes['keygate.account'] = who.account;
}

function withoutQuery(path: string): string {
  const at = path.indexOf('?');
  return at === -1 ? path : path.slice(0, at);
}

function errorType(error: unknown): string {
  if (isKeygateError(error)) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code)) return code;
  const name = (error as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' ? name : '_OTHER';
}
