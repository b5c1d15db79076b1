/** What startTracing() needs; from the `telemetry` config section. */
export interface TracingOptions {
  /** OTLP/HTTP base URL; spans are POSTed to `<endpoint>/v1/traces` as JSON. */
  endpoint: string;
  headers: Readonly<Record<string, string>>;
  serviceName: string;
  /** `service.instance.id`: the replica's id. */
  instanceId: string;
  sampleRatio: number;
  timeoutMs: number;
  exportDelayMs: number;
  /** Told when an export fails, with a short code (never the collector's answer). */
  onExportError?: (code: string) => void;
}
