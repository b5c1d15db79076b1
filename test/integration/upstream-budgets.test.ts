import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { KeygateEvent } from '../../src/events/catalogue.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { ADMIN_TOKEN, startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import {
  startRateLimitedProvider,
  type RateLimitedProvider,
  type RateLimitStyle,
} from '../support/rate-limited-provider.ts';
import { uniqueTenant } from '../support/store.ts';

// Fair shares run against a provider allowing LIMIT requests per WINDOW_MS per API key.
const LIMIT = 12;
const WINDOW_MS = 2000;
const WINDOWS = 5;

const FAIR_STYLES = ['ietf', 'openai', 'anthropic'] as const;
const INTEGRATION: Record<(typeof FAIR_STYLES)[number], string> = {
  ietf: 'ietf',
  openai: 'oai',
  anthropic: 'claude',
};

interface Tally {
  asked: number;
  served: number;
  refusedByKeygate: number;
  other: number;
}

describe('upstream budgets (against providers that enforce a real limit)', () => {
  const providers = new Map<string, RateLimitedProvider>();
  let keygate: TestKeygate & ProxyAdmin;
  const events: KeygateEvent[] = [];

  const provider = (name: string) => providers.get(name) as RateLimitedProvider;

  beforeAll(async () => {
    const start = async (name: string, style: RateLimitStyle, limit: number, windowMs: number) =>
      providers.set(name, await startRateLimitedProvider({ style, limit, windowMs }));
    await start('ietf', 'ietf', LIMIT, WINDOW_MS);
    await start('oai', 'openai', LIMIT, WINDOW_MS);
    await start('claude', 'anthropic', LIMIT, WINDOW_MS);
    await start('iso', 'ietf', 3, 60_000);
    await start('legacy', 'legacy', 3, 60_000);
    await start('junk', 'garbage', 1, 60_000);
    keygate = await startProxyKeygate(`
proxy: { maxRetryAfterSeconds: 5 }
integrations:
  oai:
    baseUrl: ${provider('oai').origin}
    auth: { type: api_key }
    budget: { headers: openai, maxWaitMs: 4000 }
  claude:
    baseUrl: ${provider('claude').origin}
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
    budget: { headers: anthropic, maxWaitMs: 4000 }
  ietf:
    baseUrl: ${provider('ietf').origin}
    auth: { type: api_key }
    budget: { headers: ietf, maxWaitMs: 4000 }
  iso:
    baseUrl: ${provider('iso').origin}
    auth: { type: api_key }
    budget: { headers: ietf, maxWaitMs: 0 }
  legacy:
    baseUrl: ${provider('legacy').origin}
    auth: { type: api_key }
    budget: {}
  junk:
    baseUrl: ${provider('junk').origin}
    auth: { type: api_key }
    budget: {}
`);
    keygate.events.subscribe((event) => events.push(event));
  });
  afterAll(async () => {
    await keygate?.close();
    for (const p of providers.values()) await p.stop();
  });

  const call = async (tenant: string, integration: string, key: string, path = '/v1/x') => {
    const res = await fetch(`${keygate.url}/proxy/${tenant}/${integration}${path}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const body = await res.text();
    return { res, body };
  };
  const budgets = async (query = '') => {
    const res = await keygate.admin('GET', `/v1/budgets${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as { replica: string; budgets: any[] };
  };

  it.each(FAIR_STYLES)(
    '%s: one greedy and two light callers share a credential; no provider 429 after the first window, each light one gets at least 90 percent, the greedy one the rest',
    async (style) => {
      const integration = INTEGRATION[style];
      const tenant = uniqueTenant(`fair-${style}`);
      const apiKey = `sk-${tenant}`;
      await keygate.putCredential(tenant, integration, { apiKey });
      const keys = await Promise.all(
        ['greedy', 'light-a', 'light-b'].map(() => keygate.createKey({ tenants: [tenant] })),
      );
      const tallies = new Map<string, Tally>();
      const one = async (who: string, key: string) => {
        const tally = tallies.get(who) ?? { asked: 0, served: 0, refusedByKeygate: 0, other: 0 };
        tallies.set(who, tally);
        tally.asked += 1;
        const { res } = await call(tenant, integration, key);
        if (res.status === 200) tally.served += 1;
        else if (res.headers.get('x-keygate-error') === 'upstream_budget_exhausted')
          tally.refusedByKeygate += 1;
        else tally.other += 1;
        return res.status;
      };
      const started = Date.now();
      const until = started + WINDOWS * WINDOW_MS;
      const [greedy, lightA, lightB] = keys.map((k) => k.key) as [string, string, string];
      // The greedy caller: thirty requests always in flight (first come, first served, a light one would wait behind them past maxWaitMs), a short pause after a refusal.
      const greedyLoops = Array.from({ length: 30 }, async () => {
        while (Date.now() < until) {
          if ((await one('greedy', greedy)) !== 200) await new Promise((r) => setTimeout(r, 100));
        }
      });
      // Each light caller: three requests per window, whatever happened to the last.
      const light = async (who: string, key: string, offset: number) => {
        await new Promise((r) => setTimeout(r, offset));
        const sent: Promise<number>[] = [];
        while (Date.now() < until) {
          sent.push(one(who, key));
          await new Promise((r) => setTimeout(r, WINDOW_MS / 3));
        }
        await Promise.all(sent);
      };
      await Promise.all([
        ...greedyLoops,
        light('light-a', lightA, 0),
        light('light-b', lightB, WINDOW_MS / 6),
      ]);

      const p = provider(integration);
      const tooMany = p.answers.filter(
        (a) => a.key === apiKey && a.status === 429 && a.at >= started + 2 * WINDOW_MS,
      );
      const served = p.count(apiKey, 200, started);
      const a = tallies.get('light-a') as Tally;
      const b = tallies.get('light-b') as Tally;
      const g = tallies.get('greedy') as Tally;
      const summary = JSON.stringify({ style, served, tooMany: tooMany.length, a, b, g });
      expect(tooMany, summary).toEqual([]);
      expect(a.served / a.asked, summary).toBeGreaterThanOrEqual(0.9);
      expect(b.served / b.asked, summary).toBeGreaterThanOrEqual(0.9);
      // What the lights did not use went to the greedy caller: at least half of it,
      // however late a busy machine fires the timers.
      const capacity = LIMIT * (WINDOWS - 1);
      expect(g.served, summary).toBeGreaterThanOrEqual((capacity - a.served - b.served) / 2);
    },
  );

  it('keeps tenants apart, answers the excess itself (429, Retry-After, RateLimit fields) and says so once', async () => {
    const [spent, fresh] = [uniqueTenant('iso-a'), uniqueTenant('iso-b')];
    const canary = 'sk-canary-budgets-5b1e2f';
    await keygate.putCredential(spent, 'iso', { apiKey: canary });
    await keygate.putCredential(fresh, 'iso', { apiKey: `sk-${fresh}` });
    const { key: spentKey } = await keygate.createKey({ tenants: [spent] });
    const { key: freshKey } = await keygate.createKey({ tenants: [fresh] });
    for (let i = 0; i < 3; i += 1) expect((await call(spent, 'iso', spentKey)).res.status).toBe(200);
    const before = provider('iso').answers.length;
    const refused = await call(spent, 'iso', spentKey);
    const again = await call(spent, 'iso', spentKey);
    expect(provider('iso').answers.length).toBe(before); // the provider was not called
    expect(refused.res.status).toBe(429);
    expect(refused.res.headers.get('x-keygate-error')).toBe('upstream_budget_exhausted');
    const retryAfter = Number(refused.res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.res.headers.get('ratelimit')).toBe(`"default";r=0;t=${retryAfter}`);
    expect(refused.res.headers.get('ratelimit-policy')).toBe('"default";q=3;w=60');
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'upstream_budget_exhausted' } });
    expect(again.res.status).toBe(429);

    // Another tenant's credential on the same integration and provider is not held.
    expect((await call(fresh, 'iso', freshKey)).res.status).toBe(200);
    const listed = await budgets('?integration=iso');
    const of = (tenant: string) => listed.budgets.find((b) => b.tenant === tenant);
    expect(of(spent)).toMatchObject({
      account: 'default',
      quotas: [{ name: 'default', unit: 'requests', refill: 'window', limit: 3, remaining: 0 }],
      waiting: 0,
    });
    expect(of(fresh)?.quotas[0]).toMatchObject({ limit: 3, remaining: 2 });
    expect(listed.replica).toBe(keygate.events.replica);

    const notices = events.filter((e) => e.type === 'budget-exhausted' && e.data.tenant === spent);
    expect(notices).toHaveLength(1);
    expect(notices[0]?.data).toMatchObject({
      integration: 'iso',
      account: 'default',
      quota: 'default',
      limit: 3,
    });
    expect(events.some((e) => e.type === 'budget-exhausted' && e.data.tenant === fresh)).toBe(false);

    const metrics = await (
      await fetch(`${keygate.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).text();
    expect(metrics).toMatch(/keygate_budget_refusals_total\{integration="iso"\} 2/);
    expect(metrics).toMatch(
      /keygate_budget_wait_seconds_bucket\{le="[^"]+",integration="ietf",outcome="admitted"\}/,
    );
    // The provider's API key is nowhere: not in the listing, an event, a metric or a log line.
    const everything = [JSON.stringify(listed), JSON.stringify(events), metrics, ...keygate.lines].join('\n');
    expect(everything).not.toContain(canary);
  });

  it('learns the older RateLimit-Limit/-Remaining/-Reset fields with headers: auto', async () => {
    const tenant = uniqueTenant('legacy');
    await keygate.putCredential(tenant, 'legacy', { apiKey: `sk-${tenant}` });
    const { key } = await keygate.createKey({ tenants: [tenant] });
    for (let i = 0; i < 3; i += 1) expect((await call(tenant, 'legacy', key)).res.status).toBe(200);
    const refused = await call(tenant, 'legacy', key);
    expect(refused.res.headers.get('x-keygate-error')).toBe('upstream_budget_exhausted');
    expect(provider('legacy').count(`sk-${tenant}`, 429)).toBe(0);
    expect((await budgets(`?tenant=${tenant}`)).budgets[0]?.quotas[0]).toMatchObject({
      name: 'ratelimit',
      limit: 3,
      remaining: 0,
    });
  });

  it('proxies a provider that sends garbage rate-limit headers as if it sent none', async () => {
    const tenant = uniqueTenant('junk');
    await keygate.putCredential(tenant, 'junk', { apiKey: `sk-${tenant}` });
    const { key } = await keygate.createKey({ tenants: [tenant] });
    for (let i = 0; i < 20; i += 1) {
      const { res, body } = await call(tenant, 'junk', key, `/v1/n${i}`);
      expect(res.status).toBe(200);
      expect(JSON.parse(body)).toEqual({ ok: true, path: `/v1/n${i}` });
      // Passed through untouched: the caller sees what the provider said.
      expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('lots');
      expect(res.headers.get('ratelimit')).toBe('"p";r=(((;t=-2');
    }
    expect(provider('junk').count(`sk-${tenant}`, 200)).toBe(20);
    expect((await budgets(`?tenant=${tenant}`)).budgets).toEqual([]);
  });

  it('holds a request until the window resets when that is within maxWaitMs, then sends it', async () => {
    const holding = await startRateLimitedProvider({ style: 'ietf', limit: 1, windowMs: 2000 });
    const held = await startProxyKeygate(`
integrations:
  hold:
    baseUrl: ${holding.origin}
    auth: { type: api_key }
    budget: { headers: ietf, maxWaitMs: 5000 }
`);
    try {
      const tenant = uniqueTenant('hold');
      await held.putCredential(tenant, 'hold', { apiKey: 'sk-hold' });
      const { key } = await held.createKey({ tenants: [tenant] });
      const send = () =>
        fetch(`${held.url}/proxy/${tenant}/hold/x`, { headers: { authorization: `Bearer ${key}` } });
      expect((await send()).status).toBe(200);
      expect((await send()).status).toBe(200);
      // The second went only once the provider's window had rolled over: it never saw a 429.
      expect(holding.count('sk-hold', 200)).toBe(2);
      expect(holding.count('sk-hold', 429)).toBe(0);
      const metrics = await (await fetch(`${held.url}/metrics`)).text();
      expect(metrics).toMatch(/keygate_budget_wait_seconds_count\{integration="hold",outcome="admitted"\} 1/);
    } finally {
      await held.close();
      await holding.stop();
    }
  });

  it('takes the same steps for a WebSocket handshake: learned from its 101, held or refused before the next', async () => {
    // A realtime API allowing one session per minute per key, said on its 101 (and a 429 after).
    let handshakes = 0;
    const server = createServer((_req, res) => res.writeHead(426).end());
    const wss = new WebSocketServer({
      server,
      verifyClient: (_info, done) => {
        handshakes += 1;
        if (handshakes > 1) done(false, 429, 'Too Many Requests', { 'retry-after': '60' });
        else done(true);
      },
    });
    wss.on('headers', (headers) =>
      headers.push('RateLimit: "sessions";r=0;t=60', 'RateLimit-Policy: "sessions";q=1;w=60'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const realtime = await startProxyKeygate(`
integrations:
  rt:
    baseUrl: ${origin}
    auth: { type: api_key }
    budget: { headers: ietf, maxWaitMs: 1000 }
`);
    const tenant = uniqueTenant('ws');
    const open = (key: string) =>
      new Promise<{ open: boolean; status?: number; headers?: IncomingMessage['headers'] }>(
        (resolve, reject) => {
          const ws = new WebSocket(`${realtime.url.replace('http', 'ws')}/proxy/${tenant}/rt/v1/realtime`, {
            headers: { authorization: `Bearer ${key}` },
          });
          ws.on('open', () => {
            ws.close();
            resolve({ open: true });
          });
          ws.on('unexpected-response', (_req, res) => {
            res.resume();
            resolve({ open: false, status: res.statusCode ?? 0, headers: res.headers });
          });
          ws.on('error', reject);
        },
      );
    try {
      await realtime.putCredential(tenant, 'rt', { apiKey: 'sk-realtime' });
      const { key } = await realtime.createKey({ tenants: [tenant] });
      expect(await open(key)).toEqual({ open: true });
      const second = await open(key);
      expect(second.status).toBe(429);
      expect(second.headers?.['x-keygate-error']).toBe('upstream_budget_exhausted');
      expect(second.headers?.['ratelimit-policy']).toBe('"sessions";q=1;w=60');
      expect(handshakes).toBe(1); // the realtime API never saw the second
    } finally {
      await realtime.close();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
