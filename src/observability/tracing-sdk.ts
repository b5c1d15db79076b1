import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator, setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { TracingOptions } from './tracing-options.ts';

/**
 * The OpenTelemetry SDK, installed globally: imported only by startTracing() (tracing.ts) when
 * an OTLP endpoint is configured. Spans are batched and POSTed as OTLP/JSON to
 * `<endpoint>/v1/traces`; sampling is parent-based (a caller's sampled flag is followed) with
 * `sampleRatio` for the traces Keygate starts.
 */
export function installSdk(options: TracingOptions): { flush(): Promise<void>; shutdown(): Promise<void> } {
  const exporter = new OTLPTraceExporter({
    url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces`,
    headers: { ...options.headers },
    timeoutMillis: options.timeoutMs,
  });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.instance.id': options.instanceId,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: options.exportDelayMs,
        exportTimeoutMillis: options.timeoutMs,
      }),
    ],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  if (options.onExportError) {
    const report = options.onExportError;
    // The SDK's errors (a failed export) carry a message only: Keygate reports that it failed, not why.
    setGlobalErrorHandler((err) => report(typeof err === 'string' ? 'export_failed' : errorName(err)));
  }
  return {
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

function errorName(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' || typeof code === 'number') return `export_failed_${code}`;
  return 'export_failed';
}
