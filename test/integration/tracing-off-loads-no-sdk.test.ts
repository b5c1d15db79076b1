import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ROOT } from '../support/keygate.ts';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';

const vault = inject('vault');
const SDK = /^@opentelemetry\/(sdk-trace|exporter-trace-otlp-http|otlp-|context-async-hooks|core|resources)/;

/** The @opentelemetry modules a `keygate` process resolved while it started, answered and stopped. */
function modulesLoaded(config: string, env: Record<string, string> = {}): string[] {
  const run = spawnSync(process.execPath, [join(ROOT, 'test/support/otel-loaded.ts')], {
    env: {
      PATH: process.env['PATH'] ?? '',
      VAULT_ADDR: vault.address,
      VAULT_TOKEN: vault.token,
      KEYGATE_TEST_CONFIG: `server: { host: 127.0.0.1, port: 0 }\n${config}`,
      ...env,
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return (JSON.parse(run.stdout) as string[]).map((url) => url.replace(/\/(dist|build)\/.*$/, ''));
}

describe('tracing off costs no SDK', () => {
  it('without an endpoint, loads @opentelemetry/api only', () => {
    const loaded = modulesLoaded('');
    expect(loaded.some((m) => m.startsWith('@opentelemetry/api'))).toBe(true);
    expect(loaded.filter((m) => SDK.test(m))).toEqual([]);
  });

  it('with OTEL_EXPORTER_OTLP_ENDPOINT, loads the SDK and the exporter (the check above can fail)', async () => {
    const collector = await startOtlpReceiver();
    try {
      const loaded = modulesLoaded('', { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
      expect(loaded).toEqual(
        expect.arrayContaining(['@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-http']),
      );
      // OTEL_SDK_DISABLED wins over the endpoint.
      const disabled = modulesLoaded('', {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_SDK_DISABLED: 'true',
      });
      expect(disabled.filter((m) => SDK.test(m))).toEqual([]);
    } finally {
      await collector.stop();
    }
  });
});
