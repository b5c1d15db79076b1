import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

const tenant = uniqueTenant('slow');
// Past the 60 s that used to cut such an answer with 504 upstream_timeout.
const THINKING_MS = 65_000;

describe('timeouts that fit AI APIs', () => {
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url.endsWith('/thinking')) {
        // A reasoning model: nothing at all until the whole answer is ready.
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ answer: 42, url: req.url }));
        }, THINKING_MS);
      } else if (req.url.endsWith('/trickle')) {
        // A stream that lasts longer than the idle timeout, one event every 100 ms.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let n = 0;
        const timer = setInterval(() => {
          n += 1;
          res.write(`data: ${n}\n\n`);
          if (n === 30) {
            clearInterval(timer);
            res.end();
          }
        }, 100);
        res.on('close', () => clearInterval(timer));
      } else if (req.url.endsWith('/stall')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: 1\n\n'); // then silence
      } else {
        res.writeHead(404).end();
      }
    });
    const o = upstream.origin;
    keygate = await startProxyKeygate(`
integrations:
  anthropic:
    template: anthropic
    baseUrl: ${o}/anthropic
  openai:
    template: openai
    baseUrl: ${o}/openai
  idle:
    baseUrl: ${o}/idle
    auth: { type: api_key }
    upstream: { bodyTimeoutMs: 1000 }
`);
    for (const i of ['anthropic', 'openai', 'idle']) {
      await keygate.putCredential(tenant, i, { apiKey: `slow-test-key-${i}` });
    }
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
  });

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${keygate.url}/proxy/${tenant}${path}`, {
      ...init,
      headers: { 'x-api-key': key, 'content-type': 'application/json', ...(init.headers as object) },
    });

  it(
    'slow: a non-streaming answer that starts after 65 s reaches the caller through the anthropic and openai templates',
    { timeout: THINKING_MS + 60_000 },
    async () => {
      const before = upstream.received.length;
      const [anthropic, openai] = await Promise.all([
        call('/anthropic/v1/messages/thinking', { method: 'POST', body: '{"model":"m"}' }),
        call('/openai/v1/chat/completions/thinking', { method: 'POST', body: '{"model":"m"}' }),
      ]);
      expect(anthropic.status).toBe(200);
      expect(anthropic.headers.get('x-keygate-error')).toBeNull();
      expect(await anthropic.json()).toEqual({ answer: 42, url: '/anthropic/v1/messages/thinking' });
      expect(openai.status).toBe(200);
      expect(await openai.json()).toEqual({ answer: 42, url: '/openai/v1/chat/completions/thinking' });
      // One generation upstream each: no timeout, so no retry by Keygate or by an SDK.
      expect(upstream.received.length - before).toBe(2);
      const audit = await waitFor('the audit lines', () => {
        const lines = keygate.lines
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((e) => e['event'] === 'proxy_request' && String(e['path']).endsWith('/thinking'));
        return lines.length === 2 && lines;
      });
      for (const line of audit) expect(line).toMatchObject({ status: 200, attempts: 1 });
    },
  );

  it('never cuts a stream while bytes flow, however long it lasts in all', async () => {
    const res = await call('/idle/trickle');
    expect(res.status).toBe(200);
    const text = await res.text(); // 3 s in all against an idle timeout of 1 s
    expect(text.match(/^data: \d+$/gm)).toHaveLength(30);
    expect(text).toContain('data: 30\n\n');
  });

  it('cuts an answer whose body goes idle for longer than bodyTimeoutMs', async () => {
    const res = await call('/idle/stall');
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });
});
