import { Counter, Gauge, type Registry } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import type { Config, WebhookConfig } from '../../config/schema.ts';
import type { Logger } from '../../observability/logger.ts';
import {
  activeSpanContext,
  endClientSpan,
  injectTraceContext,
  startClientSpan,
  tracing,
  type SpanContext,
} from '../../observability/tracing.ts';
import type { EventBus } from '../bus.ts';
import type { EventType, KeygateEvent } from '../catalogue.ts';
import { DeliveryQueue, type DropReason, type Pending } from './delivery-queue.ts';

export interface WebhookSenderDeps {
  webhooks: readonly WebhookConfig[];
  delivery: Config['events']['delivery'];
  bus: EventBus;
  logger: Logger;
  registry: Registry;
}

const DROP_LOG_EVERY_MS = 10_000;
const DRAIN_ON_CLOSE_MS = 2_000;

interface Receiver {
  label: string;
  /** Origin only: a receiver's path or query may carry a token of its own. */
  origin: string;
  events: ReadonlySet<EventType> | undefined;
  queue: DeliveryQueue;
  unloggedDrops: Partial<Record<DropReason, number>>;
  lastDropLog: number;
}

/**
 * POSTs this replica's events to every configured receiver, signed per Standard Webhooks
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`, by the `standardwebhooks`
 * library), each receiver with its own bounded queue and backoff. The body is
 * `{"type", "timestamp", "data"}` with the event's catalogued fields; `webhook-id` is the
 * event's id, the same on every retry, so a receiver can drop duplicates (delivery is at
 * least once).
 */
export class WebhookSender {
  readonly #receivers: Receiver[];
  readonly #agent: Agent;
  readonly #logger: Logger;
  readonly #unsubscribe: () => void;
  /** With tracing on: the span each event was published in, linked from its deliveries. */
  readonly #publishedIn = new WeakMap<KeygateEvent, SpanContext>();

  constructor({ webhooks, delivery, bus, logger, registry }: WebhookSenderDeps) {
    this.#logger = logger;
    const { timeoutMs } = delivery;
    this.#agent = new Agent({
      connections: delivery.concurrency,
      connectTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 30_000,
    });
    const deliveries = new Counter({
      name: 'keygate_webhook_deliveries_total',
      help: 'Webhook POSTs by receiver (its index in `webhooks`) and outcome: delivered, failed (to be retried).',
      labelNames: ['webhook', 'outcome'] as const,
      registers: [registry],
    });
    const dropped = new Counter({
      name: 'keygate_webhook_dropped_total',
      help: 'Events a receiver will never get, by reason: queue_full, expired (retried for events.delivery.retryForSeconds), shutdown.',
      labelNames: ['webhook', 'reason'] as const,
      registers: [registry],
    });
    this.#receivers = webhooks.map((webhook, index) => {
      const label = String(index);
      const signer = new Webhook(webhook.secret);
      for (const outcome of ['delivered', 'failed']) deliveries.inc({ webhook: label, outcome }, 0);
      for (const reason of ['queue_full', 'expired', 'shutdown']) dropped.inc({ webhook: label, reason }, 0);
      const receiver: Receiver = {
        label,
        origin: new URL(webhook.url).origin,
        events: webhook.events ? new Set(webhook.events) : undefined,
        unloggedDrops: {},
        lastDropLog: 0,
        queue: new DeliveryQueue({
          queueSize: delivery.queueSize,
          concurrency: delivery.concurrency,
          retryForMs: delivery.retryForSeconds * 1000,
          minBackoffMs: delivery.minBackoffMs,
          maxBackoffMs: delivery.maxBackoffMs,
          send: (item, signal) =>
            tracing.enabled
              ? this.#tracedPost(webhook.url, label, signer, item, signal, timeoutMs)
              : this.#post(webhook.url, signer, item, signal, timeoutMs),
          onDelivered: () => deliveries.inc({ webhook: label, outcome: 'delivered' }),
          onFailedAttempt: (item) => {
            deliveries.inc({ webhook: label, outcome: 'failed' });
            logger.debug('webhook delivery failed; retrying', {
              event: 'webhook_attempt_failed',
              webhook: label,
              origin: receiver.origin,
              type: item.event.type,
              attempts: item.attempts,
            });
          },
          onDropped: (reason, count) => {
            dropped.inc({ webhook: label, reason }, count);
            this.#logDrops(receiver, reason, count);
          },
        }),
      };
      return receiver;
    });
    const receivers = this.#receivers;
    new Gauge({
      name: 'keygate_webhook_queue',
      help: 'Events waiting or in flight, by receiver.',
      labelNames: ['webhook'] as const,
      registers: [registry],
      collect() {
        for (const r of receivers) this.set({ webhook: r.label }, r.queue.size);
      },
    });
    this.#unsubscribe = bus.subscribe((event) => this.#enqueue(event));
  }

  /** Events waiting or in flight for the receiver at `index` in `webhooks`. */
  queued(index: number): number {
    return this.#receivers[index]?.queue.size ?? 0;
  }

  /** Gives queued events a moment to go, then stops (what is left is counted as dropped). */
  async close(): Promise<void> {
    this.#unsubscribe();
    await Promise.all(this.#receivers.map((r) => r.queue.drain(DRAIN_ON_CLOSE_MS)));
    for (const receiver of this.#receivers) {
      receiver.queue.close();
      this.#flushDropLog(receiver);
    }
    await this.#agent.close();
  }

  #enqueue(event: KeygateEvent): void {
    if (tracing.enabled) {
      const published = activeSpanContext();
      if (published) this.#publishedIn.set(event, published);
    }
    let body: string | undefined;
    for (const receiver of this.#receivers) {
      if (receiver.events && !receiver.events.has(event.type)) continue;
      body ??= JSON.stringify({ type: event.type, timestamp: event.data.time, data: event.data });
      receiver.queue.enqueue(event, body);
    }
  }

  async #post(
    url: string,
    signer: Webhook,
    pending: Pending,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<boolean> {
    const sent = await this.#send(url, signer, pending, signal, timeoutMs, {});
    return 'status' in sent && sent.status >= 200 && sent.status < 300;
  }

  /**
   * One delivery as a CLIENT span: a trace of its own (delivery happens later, maybe after
   * retries), linked to the span the event was published in; `traceparent` goes to the receiver.
   */
  async #tracedPost(
    url: string,
    label: string,
    signer: Webhook,
    pending: Pending,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<boolean> {
    const { event } = pending;
    const data = event.data as { tenant?: unknown; integration?: unknown; account?: unknown };
    const who = {
      tenant: typeof data.tenant === 'string' ? data.tenant : undefined,
      integration: typeof data.integration === 'string' ? data.integration : undefined,
      account: typeof data.account === 'string' ? data.account : undefined,
    };
    const span = startClientSpan(
      {
        method: 'POST',
        url,
        attempt: pending.attempts,
        originOnly: true,
        follows: this.#publishedIn.get(event),
      },
      who,
    );
    span.setAttributes({
      'keygate.webhook': label,
      'keygate.event.type': event.type,
      'keygate.event.id': event.id,
    });
    const headers: Record<string, string> = {};
    injectTraceContext(span, headers);
    const sent = await this.#send(url, signer, pending, signal, timeoutMs, headers);
    if ('status' in sent) endClientSpan(span, sent.status);
    else endClientSpan(span, undefined, sent.error);
    return 'status' in sent && sent.status >= 200 && sent.status < 300;
  }

  /** The POST; its status, or what stopped it (never rejects). */
  async #send(
    url: string,
    signer: Webhook,
    { event, body }: Pending,
    signal: AbortSignal,
    timeoutMs: number,
    extraHeaders: Record<string, string>,
  ): Promise<{ status: number } | { error: unknown }> {
    const id = `msg_${event.id}`;
    const at = new Date();
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.#agent,
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        headers: {
          ...extraHeaders,
          'content-type': 'application/json',
          'user-agent': 'keygate-webhooks',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signer.sign(id, at, body),
        },
        body,
      });
      await res.body.dump();
      return { status: res.statusCode };
    } catch (error) {
      return { error };
    }
  }

  #logDrops(receiver: Receiver, reason: DropReason, count: number): void {
    receiver.unloggedDrops[reason] = (receiver.unloggedDrops[reason] ?? 0) + count;
    // The first drop at once, then one line per interval: a flood must not become one line per event.
    if (Date.now() - receiver.lastDropLog >= DROP_LOG_EVERY_MS) this.#flushDropLog(receiver);
  }

  #flushDropLog(receiver: Receiver): void {
    const drops = receiver.unloggedDrops;
    if (Object.keys(drops).length === 0) return;
    receiver.unloggedDrops = {};
    receiver.lastDropLog = Date.now();
    this.#logger.warn('webhook events dropped', {
      event: 'webhook_events_dropped',
      webhook: receiver.label,
      origin: receiver.origin,
      ...drops,
    });
  }
}
