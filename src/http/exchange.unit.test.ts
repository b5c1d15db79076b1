import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawReply, RawRequest } from './exchange.ts';

// A loopback server whose one route runs the test's reply, so what the caller sees is
// what Node wrote.
let act: (reply: RawReply, request: RawRequest) => void = () => {};
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const request = new RawRequest(req);
  act(new RawReply(res, request), request);
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('RawRequest and RawReply', () => {
  it('keep a sane caller request id and answer with it; make one up otherwise', async () => {
    act = (reply) => reply.send({ ok: true });
    const kept = await fetch(url, { headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers.get('x-request-id')).toBe('abc-123');
    const made = await fetch(url, { headers: { 'x-request-id': 'no spaces allowed' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('send objects as JSON, strings as text, with a length, and keep a content type set (a JSON one gains utf-8, as in Fastify)', async () => {
    act = (reply) => reply.code(418).send({ a: 1 });
    const json = await fetch(url);
    expect(json.status).toBe(418);
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(json.headers.get('content-length')).toBe('7');
    expect(await json.json()).toEqual({ a: 1 });
    act = (reply) => reply.header('Content-Type', 'application/problem+json').send({ b: 2 });
    expect((await fetch(url)).headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    act = (reply) => reply.header('content-type', 'text/html').send('<p>');
    expect((await fetch(url)).headers.get('content-type')).toBe('text/html');
    act = (reply) => reply.send('hi');
    const text = await fetch(url);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await text.text()).toBe('hi');
  });

  it('refuse a status Fastify refuses, and read headers back by any case', async () => {
    act = (reply) => {
      expect(() => reply.code(99)).toThrow(RangeError);
      expect(() => reply.code(600)).toThrow(RangeError);
      reply.headers({ 'X-Keygate-Error': 'x', skipped: undefined });
      expect(reply.hasHeader('x-keygate-error')).toBe(true);
      expect(reply.getHeader('X-KEYGATE-ERROR')).toBe('x');
      expect(reply.hasHeader('skipped')).toBe(false);
      reply.send();
    };
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('0');
  });

  it('open the body: the head goes out with every header set, then the caller writes and ends it', async () => {
    act = (reply) => {
      reply.code(201).header('X-Upstream', 'yes');
      const out = reply.openBody();
      expect(reply.sent).toBe(true);
      reply.send('ignored: the answer is already under way');
      out.write('a');
      setImmediate(() => out.end('b'));
    };
    const res = await fetch(url);
    expect(res.status).toBe(201);
    expect(res.headers.get('x-upstream')).toBe('yes');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.text()).toBe('ab');
  });

  it('hand a body to the proxy as Fastify would: never for GET, else when one is declared', async () => {
    const bodies: boolean[] = [];
    act = (reply, request) => {
      bodies.push(request.body !== undefined);
      request.raw.resume();
      reply.send();
    };
    await fetch(url);
    await fetch(url, { method: 'POST' });
    await fetch(url, { method: 'POST', body: 'x' });
    await fetch(url, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
    expect(bodies).toEqual([false, false, true, true]);
  });
});
