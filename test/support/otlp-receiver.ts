import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as the collector received it, attributes flattened to plain values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
  links: Array<{ traceId: string; spanId: string }>;
  resource: Record<string, string | number | boolean>;
  startNs: bigint;
  endNs: bigint;
}

export interface OtlpReceiver {
  /** The OTLP/HTTP base URL (what `telemetry.otlp.endpoint` takes). */
  url: string;
  spans: ReceivedSpan[];
  /** Raw request bodies, for canary hunting. */
  bodies: string[];
  /** Headers of each export request. */
  headers: IncomingMessage['headers'][];
  /** The spans received so far whose parent is `span`. */
  childrenOf(span: ReceivedSpan): ReceivedSpan[];
  stop(): Promise<void>;
}

export const SPAN_KIND = { internal: 1, server: 2, client: 3 } as const;

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
};
type KeyValue = { key: string; value: AnyValue };

/**
 * An OpenTelemetry collector's OTLP/HTTP trace receiver, as the real one answers: `POST
 * /v1/traces` with an `ExportTraceServiceRequest` in JSON (what @opentelemetry/exporter-trace-otlp-http
 * sends), `200 {}` when taken, `415` for anything but JSON. Every span is kept, flattened.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (!String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const text = Buffer.concat(chunks).toString();
      bodies.push(text);
      headers.push(req.headers);
      try {
        spans.push(...flatten(JSON.parse(text)));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":3,"message":"bad body"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    bodies,
    headers,
    childrenOf: (span) => spans.filter((s) => s.traceId === span.traceId && s.parentSpanId === span.spanId),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function flatten(request: {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }>;
  }>;
}): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributesOf(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        out.push({
          traceId: String(span['traceId']),
          spanId: String(span['spanId']),
          parentSpanId: typeof span['parentSpanId'] === 'string' ? span['parentSpanId'] : '',
          name: String(span['name']),
          kind: Number(span['kind']),
          attributes: attributesOf(span['attributes'] as KeyValue[] | undefined),
          status: Number((span['status'] as { code?: number } | undefined)?.code ?? 0),
          links: ((span['links'] as Array<{ traceId: string; spanId: string }> | undefined) ?? []).map(
            (l) => ({ traceId: l.traceId, spanId: l.spanId }),
          ),
          resource,
          startNs: BigInt(String(span['startTimeUnixNano'] ?? 0)),
          endNs: BigInt(String(span['endTimeUnixNano'] ?? 0)),
        });
      }
    }
  }
  return out;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
  }
  return out;
}
