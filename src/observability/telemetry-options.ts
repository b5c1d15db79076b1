import type { Config } from '../config/schema.ts';
import type { Logger } from './logger.ts';
import type { TracingOptions } from './tracing-options.ts';

const EXPORT_ERROR_LOG_EVERY_MS = 60_000;

/** startTracing()'s options from the `telemetry` section; undefined (tracing off) without an endpoint. */
export function tracingOptions(
  telemetry: Config['telemetry'],
  instanceId: string,
  logger: Logger,
): TracingOptions | undefined {
  const { endpoint, headers, timeoutMs, exportDelayMs } = telemetry.otlp;
  if (!endpoint) return undefined;
  let lastLog = 0;
  let unlogged = 0;
  return {
    endpoint,
    headers,
    timeoutMs,
    exportDelayMs,
    serviceName: telemetry.serviceName,
    instanceId,
    sampleRatio: telemetry.sampleRatio,
    // One line a minute at most: a collector that is down must not flood the log.
    onExportError: (code) => {
      unlogged += 1;
      if (Date.now() - lastLog < EXPORT_ERROR_LOG_EVERY_MS) return;
      logger.warn('trace export failed', {
        event: 'trace_export_failed',
        error: code,
        failures: unlogged,
        origin: new URL(endpoint).origin,
      });
      lastLog = Date.now();
      unlogged = 0;
    },
  };
}
