// Seeds many OAuth credentials straight into Vault for the schedule bench, as Keygate would
// store them (one derived Transit key per tenant, the account in the context, the record with
// its non-secret fields), but fast: one batch encryption per tenant and concurrent KV writes.
// A marker record makes the seed reusable: a second run against the same Vault and prefix
// (a persistent server, VAULT_ADDR) skips it.
import pLimit from 'p-limit';
import { credentialPath, transitContext } from '../../src/credentials/accounts.ts';
import { credentialRef } from '../../src/credentials/ref.ts';
import { toRecord } from '../../src/credentials/record.ts';
import type { VaultTarget } from '../../src/vault/dev-server.ts';

export interface SeedOptions {
  target: VaultTarget;
  prefix: string;
  integration: string;
  count: number;
  /** Accounts per tenant (of the one integration). */
  perTenant: number;
  concurrency: number;
}

const DAY = 86_400_000;

export async function seedCredentials(o: SeedOptions): Promise<{ seconds: number; reused: boolean }> {
  const started = performance.now();
  const marker = `secret/data/${o.prefix}/bench-seeded`;
  const seeded = await vault(o.target, 'GET', marker).catch(() => undefined);
  if (Number(seeded?.['data']?.['data']?.['count']) >= o.count) {
    return { seconds: (performance.now() - started) / 1000, reused: true };
  }
  const tenants = Math.ceil(o.count / o.perTenant);
  // Every KV write goes through one limit; tenants are prepared (key, batch encryption) a few
  // at a time ahead of their writes, so the writes never wait for an encryption and at most
  // a few tenants' records are held at once.
  const writes = pLimit(o.concurrency);
  const tenantsAhead = pLimit(Math.max(2, Math.ceil(o.concurrency / o.perTenant) + 2));
  const now = new Date().toISOString();
  let written = 0;
  const progress = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    console.error(
      `seed: ${written} of ${o.count} in ${seconds.toFixed(0)} s (${(written / seconds).toFixed(0)}/s)`,
    );
  }, 15_000);
  try {
    await Promise.all(
      Array.from({ length: tenants }, (_, t) =>
        tenantsAhead(async () => {
          const tenant = `bench-${String(t).padStart(5, '0')}`;
          const key = `${o.prefix}-${tenant}`;
          await vault(o.target, 'POST', `transit/keys/${key}`, { type: 'aes256-gcm96', derived: true });
          const accounts = Array.from(
            { length: Math.min(o.perTenant, o.count - t * o.perTenant) },
            (_, a) => `a${String(a).padStart(4, '0')}`,
          );
          const answer = await vault(o.target, 'POST', `transit/encrypt/${key}`, {
            batch_input: accounts.map((account) => ({
              plaintext: b64(
                JSON.stringify({
                  accessToken: `at-${tenant}-${account}`,
                  refreshToken: `rt-${tenant}-${account}`,
                }),
              ),
              context: b64(transitContext(credentialRef(tenant, o.integration, account))),
            })),
          });
          const results = answer['data']['batch_results'] as Array<{ ciphertext: string }>;
          await Promise.all(
            accounts.map((account, i) => {
              // Not due for weeks: the bench's own due credentials are stored apart, by the provider.
              const expiresAt = new Date(Date.now() + 30 * DAY + Math.random() * 30 * DAY).toISOString();
              const record = toRecord(
                {
                  authType: 'oauth2',
                  secret: { accessToken: '' },
                  expiresAt,
                  scopes: [],
                  lastRefreshedAt: now,
                },
                (results[i] as { ciphertext: string }).ciphertext,
                now,
                now,
              );
              const path = `secret/data/${o.prefix}/${credentialPath(credentialRef(tenant, o.integration, account))}`;
              return writes(async () => {
                await vault(o.target, 'POST', path, { data: record });
                written += 1;
              });
            }),
          );
        }),
      ),
    );
  } finally {
    clearInterval(progress);
  }
  await vault(o.target, 'POST', marker, { data: { count: o.count } });
  return { seconds: (performance.now() - started) / 1000, reused: false };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = Record<string, any>;

async function vault(target: VaultTarget, method: string, path: string, body?: unknown): Promise<Answer> {
  for (let attempt = 0; ; attempt += 1) {
    const res = await fetch(`${target.address}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': target.token, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.ok) return text ? (JSON.parse(text) as Answer) : {};
    // A loaded cluster answers 5xx/429 now and then (and 400 for a key just created on another
    // node that has not applied it yet): retry those a few times.
    if ((res.status >= 500 || res.status === 429 || res.status === 400) && attempt < 5) {
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      continue;
    }
    throw new Error(`Vault ${method} ${path}: HTTP ${res.status}`);
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
