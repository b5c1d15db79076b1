import type { CredentialRef } from '../credentials/ref.ts';
import type { Credential } from '../credentials/types.ts';
import type { Caller } from '../identity/caller.ts';
import type { Span } from '../observability/tracing.ts';
import type { ProxyBody } from './body.ts';
import type { UpstreamHeaderPlan } from './headers.ts';
import type { ProxyTarget } from './path.ts';
import type { Upstream } from './upstreams.ts';

/** How the caller's request arrived, and so how it is forwarded. */
export type Transport = 'http' | 'websocket';

/**
 * Everything one proxied request carries from its first step (pipeline.ts) to its last
 * attempt and its audit line. It is the request's CredentialRef as well: the store, the
 * refresher and the budgets are handed the state itself, so no ref is made per request
 * (docs/proxy.md#benchmark). Whoever keeps a ref past the call copies its three names.
 */
export interface ProxyState extends CredentialRef {
  transport: Transport;
  /** The raw request target split; undefined when it is not a proxy URL (a 400). */
  target: ProxyTarget | undefined;
  tenant: string;
  integration: string;
  /** The account used, once the pipeline has decided it; `default` until then. */
  account: string;
  method: string;
  /** The caller's path below the integration, without query string: what the audit line shows. */
  path: string;
  startedAt: number;
  /** Who calls, once authenticated. */
  caller: Caller | undefined;
  /** The number src/budgets gave the attempt in flight (its answer is news about the provider's count after it). */
  budgetSeq?: number | undefined;
  attempts: number;
  upstreamMs: number;
  /** Set when the caller hangs up before the answer is complete; cancels the upstream request and any backoff. */
  callerGone: CallerGone;
  /** The attempt in flight, cancelled when the caller hangs up. */
  exchange: { abort(): void } | undefined;
  /** Filled by the pipeline once the caller, the integration and the credential are known. */
  ready: ReadyState | undefined;
  /** With tracing on: the request's SERVER span (the caller's traceparent continued); else undefined. */
  span: Span | undefined;
}

export interface ReadyState {
  upstream: Upstream;
  plan: UpstreamHeaderPlan;
  /** The path sent upstream: base path + caller's path. */
  upstreamPath: string;
  /** The caller's query without the injected parameter. */
  query: string;
  credential: Credential;
  token: string;
  body: ProxyBody;
  refreshed: boolean;
  /** A client's own retry (its retry-count header above 0): Keygate makes one attempt. */
  callerRetrying: boolean;
}

/**
 * Whether the caller has hung up. The AbortSignal that a backoff's sleep needs is made
 * only when one is asked for: most requests never wait, and an AbortController with its
 * event target per request was a measurable share of the proxy's CPU (docs/proxy.md#benchmark).
 */
export class CallerGone {
  #aborted = false;
  #controller: AbortController | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** A signal that aborts when the caller hangs up (already aborted if it has). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#controller?.abort();
  }
}
