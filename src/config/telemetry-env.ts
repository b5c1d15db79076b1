type Env = Readonly<Record<string, string | undefined>>;
type Tree = Record<string, unknown>;

/**
 * The standard OpenTelemetry variables, read here once like every other override:
 * `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`, values
 * percent-decoded), `OTEL_SERVICE_NAME`; `OTEL_SDK_DISABLED=true` turns export off.
 */
export function applyOtelEnv(tree: Tree, env: Env, section: (tree: Tree, key: string) => Tree): void {
  const endpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  const headers = env['OTEL_EXPORTER_OTLP_HEADERS'];
  const serviceName = env['OTEL_SERVICE_NAME'];
  const disabled = env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true';
  if (!endpoint && !headers && !serviceName && !disabled) return;
  const telemetry = section(tree, 'telemetry');
  if (serviceName) telemetry['serviceName'] = serviceName;
  const otlp = section(telemetry, 'otlp');
  if (endpoint) otlp['endpoint'] = endpoint;
  if (headers) otlp['headers'] = { ...(otlp['headers'] as Tree | undefined), ...parseHeaders(headers) };
  if (disabled) delete otlp['endpoint'];
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const name = pair.slice(0, at).trim().toLowerCase();
    const raw = pair.slice(at + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // Not percent-encoded after all: taken as written.
    }
    if (name) headers[name] = value;
  }
  return headers;
}
