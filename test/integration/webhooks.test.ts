import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { jsonFetch } from '../support/http.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { freePort } from '../support/ports.ts';
import { uniqueTenant } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-webhooks-0123456789';
const API_KEY_CANARY = 'sk-canary-webhooks-Zt5Qm0aa';
const env = { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token };

const metric = async (keygate: TestKeygate, name: string, labels: string) => {
  const text = await (await fetch(`${keygate.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return Number(line?.split(' ')[1] ?? NaN);
};

describe('webhooks: signed, retried, bounded', () => {
  let good: WebhookReceiver;
  let filtered: WebhookReceiver;
  let flaky: WebhookReceiver;
  let keygate: TestKeygate;
  let deadUrl: string;
  const tenant = uniqueTenant('webhooks');
  const admin = (method: string, path: string, body?: unknown) =>
    jsonFetch(`${keygate.url}${path}`, method, body, ADMIN);
  const mine = (r: WebhookReceiver) =>
    [...r.accepted().values()].filter(
      (d) => d.data?.['tenant'] === tenant || (d.data?.['tenants'] as string[] | undefined)?.includes(tenant),
    );

  beforeAll(async () => {
    [good, filtered, flaky] = await Promise.all([
      startWebhookReceiver(),
      startWebhookReceiver(),
      startWebhookReceiver(),
    ]);
    flaky.setMode('ok', { count: 3, with: { status: 503 } });
    deadUrl = `http://127.0.0.1:${await freePort()}/gone`;
    keygate = await startTestKeygate(
      `
admin: { token: ${ADMIN} }
vault: { prefix: kg-webhooks }
replica: { id: hooks-a }
events: { delivery: { timeoutMs: 5000, retryForSeconds: 5, minBackoffMs: 20, maxBackoffMs: 200 } }
webhooks:
  - { url: "${good.url}", secret: "${good.secret}" }
  - { url: "${filtered.url}", secret: "${filtered.secret}", events: [credential-stored] }
  - { url: "${flaky.url}", secret: "${flaky.secret}" }
  - { url: "${deadUrl}", secret: "${good.secret}" }
integrations:
  anthropic: { template: anthropic }
`,
      env,
    );
    // Four events about this tenant: stored, deleted, a key created and revoked.
    expect(
      (await admin('PUT', `/v1/tenants/${tenant}/credentials/anthropic`, { apiKey: API_KEY_CANARY })).status,
    ).toBe(200);
    expect((await admin('DELETE', `/v1/tenants/${tenant}/credentials/anthropic`)).status).toBe(200);
    const created = await admin('POST', '/v1/keys', { tenants: [tenant] });
    const { id } = (await created.json()) as { id: string };
    expect((await admin('DELETE', `/v1/keys/${id}`)).status).toBe(204);
  });
  afterAll(async () => {
    await keygate?.close();
    for (const r of [good, filtered, flaky]) {
      for (const d of r?.deliveries ?? []) expect(d.raw).not.toContain(API_KEY_CANARY);
      await r?.stop();
    }
  });

  it('POSTs each event signed per Standard Webhooks, with replica and the catalogued fields', async () => {
    await waitFor('four deliveries', () => mine(good).length >= 4);
    const deliveries = mine(good);
    expect(deliveries.map((d) => d.type)).toEqual([
      'credential-stored',
      'credential-deleted',
      'key-created',
      'key-revoked',
    ]);
    for (const d of deliveries) {
      expect(d.verified).toBe(true);
      expect(d.id).toMatch(/^msg_[0-9a-f]+-\d+$/);
      expect(Math.abs(Number(d.timestamp) - Date.now() / 1000)).toBeLessThan(300);
      expect(d.data).toMatchObject({ replica: 'hooks-a', time: expect.any(String) });
      expect(JSON.parse(d.raw)).toEqual({ type: d.type, timestamp: d.data?.['time'], data: d.data });
    }
    expect(deliveries[0]?.data).toMatchObject({ tenant, integration: 'anthropic', account: 'default' });
    expect(good.deliveries.every((d) => d.verified)).toBe(true);
  });

  it('sends a receiver only the events it asked for', async () => {
    await waitFor('the credential-stored delivery', () => mine(filtered).length >= 1);
    await waitFor('the good receiver has everything', () => mine(good).length >= 4);
    expect(filtered.deliveries.map((d) => d.type)).toEqual(['credential-stored']);
  });

  it('retries a flaky receiver with the same webhook-id until it takes the event', async () => {
    await waitFor('four accepted by the flaky receiver', () => mine(flaky).length >= 4, {
      timeoutMs: 15_000,
    });
    const failed = flaky.deliveries.filter((d) => d.answered === 503);
    expect(failed).toHaveLength(3);
    for (const d of failed) expect(flaky.accepted().has(d.id)).toBe(true);
    expect(await metric(keygate, 'keygate_webhook_deliveries_total', 'webhook="2",outcome="failed"')).toBe(3);
    expect(await metric(keygate, 'keygate_webhook_dropped_total', 'webhook="2",reason="expired"')).toBe(0);
  });

  it('gives up on a dead receiver after events.delivery.retryForSeconds, counted and logged', async () => {
    await waitFor(
      'the dead receiver to be given up on',
      async () =>
        (await metric(keygate, 'keygate_webhook_dropped_total', 'webhook="3",reason="expired"')) >= 4,
      { timeoutMs: 15_000 },
    );
    expect(await metric(keygate, 'keygate_webhook_deliveries_total', 'webhook="3",outcome="delivered"')).toBe(
      0,
    );
    await waitFor('the drop line', () =>
      keygate.lines.some((l) => l.includes('"event":"webhook_events_dropped"')),
    );
    const line = keygate.lines.find((l) => l.includes('"event":"webhook_events_dropped"')) as string;
    expect(JSON.parse(line)).toMatchObject({ level: 'warn', webhook: '3', origin: new URL(deadUrl).origin });
    expect(keygate.lines.join('\n')).not.toContain(good.secret);
  });
});

describe('webhooks: a slow receiver never holds up Keygate', () => {
  let slow: WebhookReceiver;
  let keygate: TestKeygate;

  beforeAll(async () => {
    slow = await startWebhookReceiver('hang');
    keygate = await startTestKeygate(
      `
admin: { token: ${ADMIN} }
vault: { prefix: kg-webhooks }
events: { delivery: { queueSize: 20, concurrency: 2, timeoutMs: 60000 } }
webhooks:
  - { url: "${slow.url}", secret: "${slow.secret}" }
integrations:
  anthropic: { template: anthropic }
`,
      env,
    );
  });
  afterAll(async () => {
    await keygate?.close();
    await slow?.stop();
  });

  it('fills its bounded queue, drops the rest (counted, logged), and admin calls go on', async () => {
    const tenant = uniqueTenant('slowhook');
    await waitFor('nothing queued yet', () => keygate.webhooks.queued(0) === 0);
    // 30 admin writes, each publishing an event, while the receiver answers nothing.
    for (let i = 0; i < 30; i += 1) {
      const res = await jsonFetch(
        `${keygate.url}/v1/tenants/${tenant}-${i}/credentials/anthropic`,
        'PUT',
        { apiKey: `${API_KEY_CANARY}-${i}` },
        ADMIN,
      );
      expect(res.status).toBe(200);
    }
    await waitFor('two deliveries hanging', () => slow.deliveries.length === 2);
    expect(keygate.webhooks.queued(0)).toBe(20);
    expect(await metric(keygate, 'keygate_webhook_dropped_total', 'webhook="0",reason="queue_full"')).toBe(
      10,
    );
    expect(await metric(keygate, 'keygate_webhook_queue', 'webhook="0"')).toBe(20);
    expect(keygate.lines.some((l) => l.includes('"event":"webhook_events_dropped"'))).toBe(true);
  });
});
