import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load.ts';

const VAULT = { VAULT_TOKEN: 'root' };

describe('telemetry configuration', () => {
  it('is off by default', () => {
    const config = parseConfig('', VAULT);
    expect(config.telemetry.otlp.endpoint).toBeUndefined();
    expect(config.telemetry.serviceName).toBe('keygate');
  });

  it('takes the standard OTEL_* variables over the file', () => {
    const config = parseConfig('telemetry: { otlp: { endpoint: http://file:4318, headers: { a: "1" } } }', {
      ...VAULT,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D%3D, Tenant = t1',
      OTEL_SERVICE_NAME: 'keygate-eu',
    });
    expect(config.telemetry.otlp.endpoint).toBe('http://collector:4318');
    expect(config.telemetry.otlp.headers).toEqual({ a: '1', 'x-api-key': 'abc==', tenant: 't1' });
    expect(config.telemetry.serviceName).toBe('keygate-eu');
  });

  it('OTEL_SDK_DISABLED=true turns export off', () => {
    const config = parseConfig('telemetry: { otlp: { endpoint: http://file:4318 } }', {
      ...VAULT,
      OTEL_SDK_DISABLED: 'TRUE',
    });
    expect(config.telemetry.otlp.endpoint).toBeUndefined();
  });

  it('refuses an endpoint with a query and a ratio above 1', () => {
    const bad = () =>
      parseConfig('telemetry: { sampleRatio: 2, otlp: { endpoint: "http://c:4318/?k=v" } }', VAULT);
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/telemetry.sampleRatio/);
    expect(bad).toThrow(/telemetry.otlp.endpoint/);
  });
});

describe('vault.auth.kubernetes', () => {
  it('is a way to log in: no token needed, the default token path and mount', () => {
    const config = parseConfig('vault: { auth: { kubernetes: { role: keygate } } }', {});
    expect(config.vault.auth.kubernetes).toEqual({
      role: 'keygate',
      tokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      mount: 'kubernetes',
    });
  });

  it('is not combined with AppRole', () => {
    expect(() =>
      parseConfig(
        'vault: { appRole: { roleId: r, secretId: s }, auth: { kubernetes: { role: keygate } } }',
        {},
      ),
    ).toThrow(/choose one login method/);
  });
});
