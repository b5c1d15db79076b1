import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ProxyMetrics } from './metrics.ts';

const line = (text: string, series: string) =>
  text.split('\n').find((l) => l.startsWith(`keygate_proxy_requests_total{${series}}`));

describe('ProxyMetrics', () => {
  it('counts requests by integration, status class and source, each once across scrapes', async () => {
    const registry = new Registry();
    const metrics = new ProxyMetrics(registry, ['llm']);
    metrics.request('llm', 200, false, 0.01);
    metrics.request('llm', 204, false, 0.01);
    metrics.request('llm', 401, true, 0.01);
    metrics.request('llm', 499, false, 0.01);
    metrics.request('not-configured', 503, false, 0.01);
    let text = await registry.metrics();
    expect(line(text, 'integration="llm",status="2xx",source="upstream"')).toMatch(/ 2$/);
    expect(line(text, 'integration="llm",status="4xx",source="keygate"')).toMatch(/ 1$/);
    expect(line(text, 'integration="llm",status="499",source="upstream"')).toMatch(/ 1$/);
    expect(line(text, 'integration="unknown",status="5xx",source="upstream"')).toMatch(/ 1$/);
    expect(line(text, 'integration="not-configured"')).toBeUndefined();
    expect(text).toContain('keygate_proxy_duration_seconds_count{integration="llm"} 4');

    metrics.request('llm', 200, false, 0.02);
    text = await registry.metrics();
    expect(line(text, 'integration="llm",status="2xx",source="upstream"')).toMatch(/ 3$/);
    expect(line(text, 'integration="llm",status="4xx",source="keygate"')).toMatch(/ 1$/);
  });
});
