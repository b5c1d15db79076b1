import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { rawExchange, type RawResponse } from '../support/raw-socket.ts';
import { waitFor } from '../support/wait.ts';

// Issue 8.9: Fastify's router and Node's parser answered in their own shapes, without
// x-keygate-error, a request id or a log line.
describe('errors outside the contract', () => {
  let keygate: TestKeygate & ProxyAdmin;
  beforeAll(async () => {
    keygate = await startProxyKeygate(`
integrations:
  ant: { baseUrl: http://127.0.0.1:9, auth: { type: api_key } }
`);
  });
  afterAll(async () => {
    await keygate?.close();
  });

  const send = (target: string, method = 'GET') =>
    rawExchange(keygate.url, `${method} ${target} HTTP/1.1\r\nhost: x\r\n\r\n`);

  function expectContract(res: RawResponse, status: number, code: string): void {
    expect(res.status).toBe(status);
    expect(res.headers['x-keygate-error']).toBe(code);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(res.body) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.requestId).toBeTruthy();
    expect(res.headers['x-request-id']).toBe(body.error.requestId);
  }

  async function expectLogged(requestId: string | undefined, code: string): Promise<void> {
    await waitFor(`a log line for ${code}`, () =>
      keygate.lines.some((l) => l.includes(String(requestId)) && l.includes(code)),
    );
  }

  it('a malformed escape (%ff) is invalid_path', async () => {
    const res = await send('/proxy/acme/ant/%ff');
    expectContract(res, 400, 'invalid_path');
    await expectLogged(res.headers['x-request-id'], 'invalid_path');
  });

  it('an overlong name is invalid_name, not a bare 414', async () => {
    const res = await send(`/proxy/${'a'.repeat(150)}/ant/x`);
    expectContract(res, 400, 'invalid_name');
    await expectLogged(res.headers['x-request-id'], 'invalid_name');
  });

  it("a raw DEL in the path is bad_request instead of Node's Client Error", async () => {
    const res = await send('/proxy/acme/ant/a\x7fb');
    expectContract(res, 400, 'bad_request');
    expect(res.headers['connection']).toBe('close');
    await expectLogged(res.headers['x-request-id'], 'bad_request');
  });

  it('an absolute-form target is bad_request, not invalid_name', async () => {
    const res = await send('http://127.0.0.1/proxy/acme/ant/x');
    expectContract(res, 400, 'bad_request');
    expect(JSON.parse(res.body).error.message).toMatch(/origin-form/);
  });

  it('a request with headers over the limit is headers_too_large', async () => {
    const res = await rawExchange(
      keygate.url,
      `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expectContract(res, 431, 'headers_too_large');
  });
});
