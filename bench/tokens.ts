// What an access token costs the proxy's first step, per algorithm:
//   npm run bench:tokens
// First seen = jose's signature check, claims, tenant/account mapping and the cache write
// (the key set already fetched); cached = the SHA-256 of the token and an LRU lookup, what
// every later request of that token pays; authorise = the per-request audience, tenant
// and scope checks. Also a Keygate key's cached check (hash + map) for comparison. Medians
// of BENCH_ROUNDS rounds (default 7) of BENCH_TOKENS tokens (default 500).
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../src/config/load.ts';
import { IssuerFetcher } from '../src/identity/fetch-json.ts';
import { refusalFor } from '../src/identity/authorise.ts';
import { ProtectedResources } from '../src/identity/resources.ts';
import { TokenVerifier } from '../src/identity/tokens.ts';
import { startTokenIssuer, type SigningAlg } from '../test/support/token-issuer.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const TOKENS = Number(process.env['BENCH_TOKENS'] ?? 500);
const CACHED_LOOKUPS = 200_000;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
const fmt = (n: number) => n.toFixed(2).padStart(10);

process.stdout.write(
  `access-token verification, µs per token (median of ${ROUNDS} rounds × ${TOKENS} tokens); node ${process.version}\n` +
    `${'alg'.padEnd(8)}${'first seen'.padStart(12)}${'cached'.padStart(10)}${'authorise'.padStart(11)}\n`,
);
for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA'] as SigningAlg[]) {
  const issuer = await startTokenIssuer({ alg });
  const { callers } = parseConfig(
    `callers: { issuers: [{ issuer: "${issuer.issuer}", tenant: { claim: org }, account: { claim: sub } }] }\n`,
    { VAULT_TOKEN: 'unused' },
  );
  const fetcher = new IssuerFetcher(callers.jwks);
  const verifier = new TokenVerifier({ callers, fetcherFor: () => fetcher });
  const resources = new ProtectedResources('https://keygate.example.com');
  const sign = (i: number) =>
    issuer.sign({
      sub: `user-${i}`,
      org: 'acme',
      aud: 'https://keygate.example.com',
      scope: 'keygate:proxy',
    });
  await verifier.verify(await sign(-1)); // fetches the key set once

  const first: number[] = [];
  const cached: number[] = [];
  const authorise: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const tokens = await Promise.all(Array.from({ length: TOKENS }, (_, i) => sign(round * TOKENS + i)));
    let started = performance.now();
    for (const token of tokens) await verifier.verify(token);
    first.push(((performance.now() - started) * 1000) / TOKENS);

    const hot = tokens[0] as string;
    started = performance.now();
    for (let i = 0; i < CACHED_LOOKUPS; i += 1) await verifier.verify(hot);
    cached.push(((performance.now() - started) * 1000) / CACHED_LOOKUPS);

    const verified = await verifier.verify(hot);
    started = performance.now();
    for (let i = 0; i < CACHED_LOOKUPS; i += 1) refusalFor(verified, 'acme', 'github', resources, Date.now());
    authorise.push(((performance.now() - started) * 1000) / CACHED_LOOKUPS);
  }
  process.stdout.write(
    `${alg.padEnd(8)}${fmt(median(first)).padStart(12)}${fmt(median(cached))}${fmt(median(authorise)).padStart(11)}\n`,
  );
  await fetcher.close();
  await issuer.stop();
}
