import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { freePort } from '../support/ports.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { rawRequest } from '../support/raw-http.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

const tenant = uniqueTenant('retries');

describe('429, 5xx and errors Keygate makes itself', () => {
  let upstream: FakeUpstream;
  let silent: Server; // accepts connections, never answers
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  // `holdMs`: the upstream then behaves as a real rate limiter does, answering the same
  // 429 to every request until that long after it first said so. A Keygate that waited
  // less than Retry-After asks too early, meets the 429 again and spends its attempts;
  // so counting attempts shows the wait was honoured, without timing anything here.
  let script: Array<{ status: number; headers?: Record<string, string>; holdMs?: number }> = [];
  let held: { until: number; headers: Record<string, string> | undefined } | undefined;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (held && Date.now() < held.until) {
        res.writeHead(429, { 'content-type': 'text/plain', ...held.headers });
        res.end('429 still limited');
        return;
      }
      held = undefined;
      const next = script.shift() ?? { status: 200 };
      if (next.holdMs !== undefined) held = { until: Date.now() + next.holdMs, headers: next.headers };
      res.writeHead(next.status, { 'content-type': 'text/plain', ...next.headers });
      res.end(`${next.status} ${req.body.toString()}`);
    });
    silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as { port: number }).port;
    const closedPort = await freePort();
    keygate = await startProxyKeygate(`
proxy:
  maxAttempts: 3
  maxRetryAfterSeconds: 5
  backoffBaseMs: 20
  backoffMaxMs: 100
  maxBodyBytes: 2000
  maxReplayBodyBytes: 500
integrations:
  api:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
  closed:
    baseUrl: http://127.0.0.1:${closedPort}
    auth: { type: api_key }
  slow:
    baseUrl: http://127.0.0.1:${silentPort}
    auth: { type: api_key }
    upstream: { headersTimeoutMs: 300 }
`);
    for (const i of ['api', 'closed', 'slow'])
      await keygate.putCredential(tenant, i, { apiKey: 'retry-test-key' });
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  beforeEach(() => {
    held = undefined; // a test's limiter ends with it
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
    silent?.closeAllConnections();
    silent?.close();
  });

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${keygate.url}/proxy/${tenant}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) },
    });
  const answered = async (fn: () => Promise<Response>) => {
    const res = await fn();
    const body = await res.text();
    return { res, body };
  };

  it('honours Retry-After in seconds', async () => {
    // The limiter holds 800 ms of the 1 s asked; the backoff alone (20-100 ms) would not clear it.
    script = [{ status: 429, headers: { 'retry-after': '1' }, holdMs: 800 }];
    const before = upstream.received.length;
    const { res } = await answered(() => call('/api/x', { method: 'POST', body: 'payload' }));
    expect(res.status).toBe(200);
    expect(upstream.received.length - before).toBe(2);
    expect(upstream.received.at(-1)?.body.toString()).toBe('payload');
  });

  it('honours Retry-After as an HTTP date, and retry-after-ms', async () => {
    // A date 2 s ahead, to the second: at least 1 s away.
    const date = new Date(Date.now() + 2000).toUTCString();
    script = [{ status: 429, headers: { 'retry-after': date }, holdMs: 800 }];
    let before = upstream.received.length;
    const dated = await answered(() => call('/api/x'));
    expect(dated.res.status).toBe(200);
    expect(upstream.received.length - before).toBe(2);
    // retry-after-ms wins: read as Retry-After alone, 120 s is over the cap and the 429
    // would be passed through after one attempt.
    script = [{ status: 429, headers: { 'retry-after-ms': '300', 'retry-after': '120' }, holdMs: 200 }];
    before = upstream.received.length;
    const ms = await answered(() => call('/api/x'));
    expect(ms.res.status).toBe(200);
    expect(upstream.received.length - before).toBe(2);
  });

  it('passes a 429 through at once when Retry-After is beyond the cap', async () => {
    script = [{ status: 429, headers: { 'retry-after': '120' } }];
    const before = upstream.received.length;
    const { res } = await answered(() => call('/api/x'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('120');
    expect(res.headers.get('x-keygate-error')).toBeNull();
    expect(upstream.received.length - before).toBe(1);
  });

  it("makes one attempt for an SDK's retry, so the SDK's retries and Keygate's do not multiply", async () => {
    script = [{ status: 429, headers: { 'retry-after': '1' } }];
    let before = upstream.received.length;
    const again = { 'x-stainless-retry-count': '1' };
    const retried = await answered(() => call('/api/x', { method: 'POST', body: 'p', headers: again }));
    expect(retried.res.status).toBe(429);
    expect(retried.res.headers.get('retry-after')).toBe('1');
    expect(retried.res.headers.get('x-keygate-error')).toBeNull();
    expect(upstream.received.length - before).toBe(1);
    expect(upstream.received.at(-1)?.headers['x-stainless-retry-count']).toBe('1');
    script = [{ status: 503 }];
    before = upstream.received.length;
    expect((await answered(() => call('/api/x', { headers: again }))).res.status).toBe(503);
    expect(upstream.received.length - before).toBe(1);
    // The SDK's first attempt (count 0) is retried by Keygate as any other request.
    script = [{ status: 429, headers: { 'retry-after': '0' } }];
    before = upstream.received.length;
    const first = await answered(() => call('/api/x', { headers: { 'x-stainless-retry-count': '0' } }));
    expect(first.res.status).toBe(200);
    expect(upstream.received.length - before).toBe(2);
  });

  it('gives up after maxAttempts and passes the last 429 through', async () => {
    script = [1, 2, 3].map(() => ({ status: 429, headers: { 'retry-after': '0' } }));
    const before = upstream.received.length;
    const { res } = await answered(() => call('/api/x'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('0');
    expect(upstream.received.length - before).toBe(3);
  });

  it('retries 5xx for idempotent methods only', async () => {
    script = [{ status: 503 }];
    const get = await answered(() => call('/api/x'));
    expect(get.res.status).toBe(200);
    script = [{ status: 502 }];
    const before = upstream.received.length;
    const post = await answered(() => call('/api/x', { method: 'POST', body: 'once' }));
    expect(post.res.status).toBe(502);
    expect(post.res.headers.get('x-keygate-error')).toBeNull();
    expect(upstream.received.length - before).toBe(1);
  });

  it('answers 502 upstream_unreachable and 504 upstream_timeout', async () => {
    const closed = await answered(() => call('/closed/x'));
    expect(closed.res.status).toBe(502);
    expect(closed.res.headers.get('x-keygate-error')).toBe('upstream_unreachable');
    expect(JSON.parse(closed.body).error).toMatchObject({ code: 'upstream_unreachable' });
    const slow = await answered(() => call('/slow/x'));
    expect(slow.res.status).toBe(504);
    expect(slow.res.headers.get('x-keygate-error')).toBe('upstream_timeout');
    const audit = await waitFor('the audit line', () =>
      keygate.lines
        .map((l) => JSON.parse(l))
        .findLast((e) => e.event === 'proxy_request' && e.integration === 'slow'),
    );
    expect(audit).toMatchObject({ integration: 'slow', status: 504, attempts: 1 });
  });

  it('answers 413 for a body over the limit, declared or chunked', async () => {
    const declared = await answered(() => call('/api/x', { method: 'POST', body: 'z'.repeat(2500) }));
    expect(declared.res.status).toBe(413);
    expect(declared.res.headers.get('x-keygate-error')).toBe('payload_too_large');
    const chunked = await rawRequest(keygate.url, `/proxy/${tenant}/api/x`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'transfer-encoding': 'chunked' },
      body: 'w'.repeat(2500),
    });
    expect(chunked.status).toBe(413);
    expect(chunked.headers['x-keygate-error']).toBe('payload_too_large');
  });
});

describe('Vault unavailable', () => {
  let keygate: TestKeygate | undefined;
  afterAll(() => keygate?.close());

  it('answers 503 vault_unavailable with Retry-After', async () => {
    const vault = inject('vault');
    const port = await freePort();
    keygate = await startTestKeygate(
      `
vault: { retryBudgetMs: 100 }
integrations:
  api: { baseUrl: "http://127.0.0.1:9", auth: { type: api_key } }
`,
      { VAULT_ADDR: `http://127.0.0.1:${port}`, VAULT_TOKEN: vault.token },
    );
    const res = await fetch(`${keygate.url}/proxy/acme/api/x`, {
      headers: { authorization: `Bearer kg_0123456789abcdef.${'s'.repeat(43)}` },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('x-keygate-error')).toBe('vault_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
