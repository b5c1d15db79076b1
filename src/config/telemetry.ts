import { Type } from '@sinclair/typebox';

const Strict = { additionalProperties: false } as const;

/**
 * `telemetry`: OpenTelemetry traces, exported over OTLP/HTTP (JSON) when `otlp.endpoint` is set
 * (or `OTEL_EXPORTER_OTLP_ENDPOINT`, see load.ts). Without an endpoint nothing is recorded and the
 * SDK is never loaded (docs/operations.md#traces).
 */
export const TelemetrySchema = Type.Object(
  {
    /** `service.name` of every span (`OTEL_SERVICE_NAME`). */
    serviceName: Type.String({ minLength: 1, default: 'keygate' }),
    /** Share of new traces recorded (0..1); a caller's `traceparent` decides for the traces it starts. */
    sampleRatio: Type.Number({ minimum: 0, maximum: 1, default: 1 }),
    otlp: Type.Object(
      {
        /** The collector's OTLP/HTTP base URL, e.g. http://otel-collector:4318; spans go to `<endpoint>/v1/traces`. */
        endpoint: Type.Optional(Type.String({ pattern: '^https?://[^\\s?#]+$' })),
        /** Sent with every export, e.g. a collector's API key (`OTEL_EXPORTER_OTLP_HEADERS`). */
        headers: Type.Record(Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }), Type.String(), {
          default: {},
        }),
        /** One export may take this long. */
        timeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
        /** Spans wait at most this long before they are sent, in batches. */
        exportDelayMs: Type.Integer({ minimum: 1, default: 5000 }),
      },
      { ...Strict, default: {} },
    ),
  },
  { ...Strict, default: {} },
);
