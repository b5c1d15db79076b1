import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  endClientSpan,
  endServerSpan,
  failSpan,
  injectTraceContext,
  startClientSpan,
  startServerSpan,
  tracing,
  withSpan,
} from './tracing.ts';
import { KeygateError } from '../errors.ts';

// The helpers the proxy's request path uses, against the real SDK with an in-memory exporter.
describe('tracing helpers', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });
  beforeEach(() => exporter.reset());

  it('is off until startTracing installs an exporter', () => {
    expect(tracing.enabled).toBe(false);
  });

  it('continues a caller’s traceparent, drops the query, and passes a new traceparent upstream', () => {
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const server = startServerSpan(
      {
        method: 'POST',
        path: '/proxy/acme/github/repos?access_token=secret-in-query',
        route: '/proxy/{tenant}/{integration}/{path}',
        headers: { traceparent: caller, authorization: 'Bearer kg_x.y' },
        serverAddress: 'keygate.example.com',
        serverPort: 443,
        scheme: 'https',
      },
      { tenant: 'acme', integration: 'github', account: 'default' },
    );
    const client = startClientSpan(
      { method: 'POST', url: 'https://api.github.com:8443/repos?key=injected-api-key', attempt: 2 },
      { tenant: 'acme', integration: 'github' },
      server,
    );
    const headers: Record<string, string | string[]> = { traceparent: caller, tracestate: 'vendor=1' };
    injectTraceContext(client, headers);
    endClientSpan(client, 503);
    endServerSpan(server, 502);

    const [clientSpan, serverSpan] = exporter.getFinishedSpans();
    expect(serverSpan?.name).toBe('POST /proxy/{tenant}/{integration}/{path}');
    expect(serverSpan?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(serverSpan?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(serverSpan?.attributes).toEqual({
      'http.request.method': 'POST',
      'url.path': '/proxy/acme/github/repos',
      'url.scheme': 'https',
      'http.route': '/proxy/{tenant}/{integration}/{path}',
      'server.address': 'keygate.example.com',
      'server.port': 443,
      'keygate.tenant': 'acme',
      'keygate.integration': 'github',
      'keygate.account': 'default',
      'http.response.status_code': 502,
      'error.type': '502',
    });
    expect(serverSpan?.status.code).toBe(2);
    expect(clientSpan?.parentSpanContext?.spanId).toBe(serverSpan?.spanContext().spanId);
    expect(clientSpan?.attributes).toMatchObject({
      'url.full': 'https://api.github.com:8443/repos',
      'server.address': 'api.github.com',
      'server.port': 8443,
      'http.request.resend_count': 1,
      'http.response.status_code': 503,
    });
    // The upstream gets the client span's context; the caller's tracestate is not passed on.
    expect(headers['traceparent']).toBe(
      `00-${clientSpan?.spanContext().traceId}-${clientSpan?.spanContext().spanId}-01`,
    );
    expect(headers['tracestate']).toBeUndefined();
    expect(JSON.stringify(exporter.getFinishedSpans().map((s) => s.attributes))).not.toMatch(
      /secret|injected|Bearer/,
    );
  });

  it('masks secret-shaped path segments (a JWT, a Keygate key, a Vault token) in url.path and url.full', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl';
    const server = startServerSpan({
      method: 'GET',
      path: `/proxy/acme/hooks/${jwt}/kg_abc.def`,
      route: '/proxy/{tenant}/{integration}/{path}',
      headers: {},
    });
    const client = startClientSpan(
      { method: 'GET', url: `https://hooks.example/${jwt}/hvs.${'a'.repeat(24)}` },
      {},
      server,
    );
    endClientSpan(client, 200);
    endServerSpan(server, 200);
    const [clientSpan, serverSpan] = exporter.getFinishedSpans();
    expect(serverSpan?.attributes['url.path']).toBe('/proxy/acme/hooks/[redacted]/[redacted]');
    expect(clientSpan?.attributes['url.full']).toBe('https://hooks.example/[redacted]/[redacted]');
  });

  it('a 4xx fails a client span, not a server span; an error is recorded by its code only', () => {
    const server = startServerSpan({ method: 'GET', path: '/x', route: '/x', headers: {} });
    const client = withSpan(server, () => startClientSpan({ method: 'GET', url: 'http://127.0.0.1:1/x' }));
    endClientSpan(client, 404);
    failSpan(server, new KeygateError('vault_unavailable', { message: 'Vault said s.0123456789abcdefghij' }));
    endServerSpan(server, 404);
    const [c, s] = exporter.getFinishedSpans();
    expect(c?.parentSpanContext?.spanId).toBe(s?.spanContext().spanId);
    expect(c?.status.code).toBe(2);
    expect(s?.attributes['error.type']).toBe('vault_unavailable');
    const notFound = startServerSpan({ method: 'GET', path: '/y', route: '/y', headers: {} });
    endServerSpan(notFound, 404);
    const quiet = exporter.getFinishedSpans()[2];
    expect([quiet?.status.code, quiet?.attributes['error.type']]).toEqual([0, undefined]);
    expect(s?.events).toEqual([]);
    expect(JSON.stringify([s?.name, s?.attributes, s?.status, s?.events])).not.toContain('s.0123456789');
  });
});
