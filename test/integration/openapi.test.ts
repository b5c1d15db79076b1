import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ERRORS } from '../../src/errors.ts';
import { registerOpenApi } from '../../src/http/openapi.ts';
import { ROOT, startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import {
  errorCodesOf,
  operations,
  routeRecorder,
  undocumentedRoutes,
  type SeenRoute,
} from '../support/openapi.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-openapi-0123456789';
const DOCUMENTED_CODES = new Set(
  [...readFileSync(resolve(ROOT, 'docs/errors.md'), 'utf8').matchAll(/^\| `([a-z_]+)` \| \d{3} \|/gm)].map(
    (m) => m[1],
  ),
);

describe('GET /openapi.json', () => {
  let keygate: TestKeygate;
  let document: any;
  const recorder = routeRecorder();

  beforeAll(async () => {
    keygate = await startTestKeygate(
      `
admin: { token: ${ADMIN} }
integrations:
  github: { template: github, auth: { type: oauth2, clientId: c, clientSecret: openapi-canary-Hq71 } }
  anthropic: { template: anthropic }
`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
      { onRoute: recorder.onRoute },
    );
    const res = await fetch(`${keygate.url}/openapi.json`);
    expect(res.status).toBe(200);
    document = await res.json();
  });
  afterAll(() => keygate?.close());

  it('is a valid OpenAPI 3.1 document without a secret in it', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.info).toMatchObject({ title: 'Keygate', version: expect.any(String) });
    const text = JSON.stringify(document);
    expect(text).not.toContain('openapi-canary-Hq71');
    expect(text).not.toContain(ADMIN);
  });

  it('documents every route Fastify registered, but those left out on purpose', () => {
    // Routes other features add later are covered by this same check, through onRoute.
    expect(recorder.routes.length).toBeGreaterThan(20);
    expect(undocumentedRoutes(recorder.routes, document)).toEqual([]);
    expect(document.paths['/v1/keys']).toHaveProperty('get');
    expect(document.paths['/proxy/{tenant}/{integration}/{path}']).toHaveProperty('post');
    expect(document.paths['/proxy/{tenant}/{integration}/{path}']).not.toHaveProperty('query');
  });

  it('gives every operation a summary, a success answer, and error answers in the contract shape', () => {
    const problems: string[] = [];
    for (const op of operations(document)) {
      const statuses = Object.keys(op.responses ?? {});
      if (!op.summary) problems.push(`${op.key}: no summary`);
      if (!statuses.some((s) => /^[23]\d\d$/.test(s) || s === 'default'))
        problems.push(`${op.key}: no success response`);
      if (op.security?.some((s) => 'adminToken' in s) && !statuses.includes('401'))
        problems.push(`${op.key}: an admin route without its 401`);
      // /readyz's 503 is its readiness answer ({status, reason}), not an error.
      const errors = statuses.filter((s) => /^[45]\d\d$/.test(s) && `${op.key} ${s}` !== 'GET /readyz 503');
      for (const status of errors) {
        const codes = errorCodesOf(op.responses?.[status] ?? {});
        if (codes.length === 0)
          problems.push(
            `${op.key} ${status}: neither the {"error":{code,...}} shape nor a page naming its code`,
          );
        for (const code of codes) {
          const def = (ERRORS as Record<string, { status: number }>)[code];
          if (def?.status !== Number(status))
            problems.push(`${op.key} ${status}: ${code} has another status`);
        }
      }
    }
    // A new route without schemas lands here: give it summary, params, body and responses
    // with the helpers in src/http/schemas.ts (adminDoc, adminErrors, errorResponses).
    expect(problems).toEqual([]);
  });

  it('documents only error codes that docs/errors.md lists', () => {
    const codes = new Set(
      operations(document).flatMap((op) => Object.values(op.responses ?? {}).flatMap(errorCodesOf)),
    );
    expect(codes.size).toBeGreaterThan(10);
    expect([...codes].filter((c) => !DOCUMENTED_CODES.has(c))).toEqual([]);
  });
});

describe('the completeness check', () => {
  it('catches a route hidden from the document and one without an operation', async () => {
    const recorder = routeRecorder();
    const app = Fastify();
    app.addHook('onRoute', recorder.onRoute);
    await registerOpenApi(app);
    app.get('/shown', { schema: { summary: 'shown' } }, async () => 'ok');
    app.get('/hidden', { schema: { hide: true } }, async () => 'ok');
    await app.ready();
    const seen: SeenRoute[] = [...recorder.routes, { method: 'PUT', url: '/shown' }];
    expect(undocumentedRoutes(seen, app.swagger() as never)).toEqual(['GET /hidden', 'PUT /shown']);
    await app.close();
  });
});
