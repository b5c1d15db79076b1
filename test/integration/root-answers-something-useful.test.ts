import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate } from '../support/proxy.ts';

// Regression: `GET /` answered 404 not_found, and nothing pointed a newcomer at the console.
describe('GET /', () => {
  let t: TestKeygate;
  beforeAll(async () => {
    t = await startProxyKeygate('integrations: {}\n');
  });
  afterAll(() => t.close());

  it('sends a browser to the console', async () => {
    const res = await fetch(`${t.url}/`, {
      redirect: 'manual',
      headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    });
    expect([res.status, res.headers.get('location'), res.headers.get('vary')]).toEqual([
      302,
      '/console',
      'accept',
    ]);
    const page = await fetch(new URL(res.headers.get('location') as string, t.url));
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
  });

  it('gives curl an index of where things are, each of which answers', async () => {
    const res = await fetch(`${t.url}/`);
    expect(res.status).toBe(200);
    const index = (await res.json()) as Record<string, string>;
    expect(index).toMatchObject({ name: 'keygate', console: '/console', openapi: '/openapi.json' });
    for (const key of ['console', 'openapi', 'health', 'ready', 'metrics']) {
      const answer = await fetch(`${t.url}${index[key]}`);
      expect([key, answer.status]).toEqual([key, 200]);
    }
  });
});
