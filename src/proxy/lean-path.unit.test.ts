import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { leanPath } from './lean-path.ts';

const served: string[] = [];
const handler = leanPath(async (request) => {
  served.push(request.raw.url ?? '');
});
const takes = (url: string, method = 'GET', headers: Record<string, string> = {}) =>
  handler(
    { url, method, headers, socket: {} } as unknown as IncomingMessage,
    { setHeader() {} } as unknown as ServerResponse,
  );

// What the lean path leaves to Fastify is what Fastify's router answers itself, so
// its answers (codes, log lines) stay exactly what they were.
describe('the lean path', () => {
  it('takes proxy requests Fastify would have routed to the proxy unchanged', () => {
    expect(takes('/proxy/acme/github/repos/x?per_page=1')).toBe(true);
    expect(takes('/proxy/acme/github')).toBe(true);
    expect(takes('/proxy/acme/github/', 'POST', { 'content-type': 'application/json; charset=utf-8' })).toBe(
      true,
    );
    expect(takes('/proxy/acme/github/x?q=%ff', 'TRACE')).toBe(true); // the query is not the router's
    expect(served).toContain('/proxy/acme/github/repos/x?per_page=1');
  });

  it('leaves to Fastify what its router, body parser or method table answers', () => {
    expect(takes('/healthz')).toBe(false);
    expect(takes('/proxy/acme')).toBe(false);
    expect(takes('/proxy/Acme/github/x')).toBe(false); // invalid_name
    expect(takes(`/proxy/${'a'.repeat(150)}/github/x`)).toBe(false); // FST_ERR_MAX_PARAM_LENGTH
    expect(takes('/proxy/acme/github/%ff')).toBe(false); // FST_ERR_BAD_URL
    expect(takes('/proxy/acme/github/a%2Fb')).toBe(false);
    expect(takes('/proxy/acme/github/x', 'QUERY')).toBe(false);
    expect(takes('/proxy/acme/github/x', 'PROPFIND')).toBe(false);
    expect(takes('/proxy/acme/github/x', 'POST', { 'content-type': 'json' })).toBe(false); // 415
    expect(takes('/proxy/acme/github/x', 'POST', { 'content-type': '' })).toBe(false);
  });
});
