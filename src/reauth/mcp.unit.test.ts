import { describe, expect, it } from 'vitest';
import type { ProxyBody } from '../proxy/body.ts';
import { mcpAnswer, problemAnswer, type ReauthOffer } from './answers.ts';
import { mcpCallOf, speaksMrtr } from './mcp-request.ts';
import { checkRequestState, makeRequestState, type StateSubject } from './request-state.ts';

const json = (value: unknown): ProxyBody => ({ kind: 'buffered', data: Buffer.from(JSON.stringify(value)) });
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const offer: ReauthOffer = {
  link: {
    id: 'AAAAAAAAAAAAAAAAAAAAAA',
    code: 'ABCD-EFGH',
    expiresAt: '2030-01-01T00:00:00.000Z',
    tenant: 'acme',
    integration: 'github',
    account: 'default',
  },
  url: 'https://keygate.example/connect/AAAAAAAAAAAAAAAAAAAAAA',
  message: 'Connect github for acme to continue: open the link and enter the code ABCD-EFGH.',
  code: 'ABCD-EFGH',
};

describe('mcpCallOf: which proxied calls are MCP requests', () => {
  const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'search' } };

  it('recognises a Streamable HTTP JSON-RPC request by body and MCP headers', () => {
    const found = mcpCallOf('POST', { ...JSON_HEADERS, 'mcp-protocol-version': '2025-11-25' }, json(call));
    expect(found).toMatchObject({
      id: 7,
      method: 'tools/call',
      name: 'search',
      protocolVersion: '2025-11-25',
    });
  });

  it('reads the 2026-07-28 revision and URL elicitation from _meta', () => {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': { elicitation: { url: {} } },
    };
    const found = mcpCallOf(
      'POST',
      JSON_HEADERS,
      json({ ...call, params: { uri: 'file:///a', _meta: meta } }),
    );
    expect(found).toMatchObject({ protocolVersion: '2026-07-28', urlElicitation: true, name: 'file:///a' });
  });

  it('leaves alone notifications, batches, other JSON, streamed bodies and non-POSTs', () => {
    const headers = { ...JSON_HEADERS, 'mcp-protocol-version': '2025-11-25' };
    expect(
      mcpCallOf('POST', headers, json({ jsonrpc: '2.0', method: 'notifications/initialized' })),
    ).toBeUndefined();
    expect(mcpCallOf('POST', headers, json([call]))).toBeUndefined();
    expect(mcpCallOf('POST', headers, json({ model: 'x', messages: [] }))).toBeUndefined();
    expect(mcpCallOf('POST', { 'content-type': 'application/json' }, json(call))).toBeUndefined(); // no MCP sign
    expect(mcpCallOf('POST', { ...headers, 'content-type': 'text/plain' }, json(call))).toBeUndefined();
    expect(mcpCallOf('GET', headers, json(call))).toBeUndefined();
    expect(mcpCallOf('POST', headers, { kind: 'streaming', open: () => null as never })).toBeUndefined();
    expect(mcpCallOf('POST', headers, { kind: 'buffered', data: Buffer.from('{not json') })).toBeUndefined();
  });

  it('compares revisions as dates', () => {
    expect([speaksMrtr('2025-11-25'), speaksMrtr('2026-07-28'), speaksMrtr('2027-01-01')]).toEqual([
      false,
      true,
      true,
    ]);
    expect([speaksMrtr(undefined), speaksMrtr('draft')]).toEqual([false, false]);
  });
});

describe('answers in the caller’s protocol', () => {
  const base = { id: 'x1', name: 'search', params: {}, urlElicitation: true } as const;

  it('2025-11-25 (and unknown revisions): error -32042 with one URL elicitation carrying an elicitationId', () => {
    for (const protocolVersion of ['2025-11-25', undefined]) {
      const answer = mcpAnswer({ ...base, method: 'tools/call', protocolVersion }, offer, () => 'unused');
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        jsonrpc: '2.0',
        id: 'x1',
        error: {
          code: -32042,
          data: {
            elicitations: [
              { mode: 'url', url: offer.url, elicitationId: offer.link.id, message: offer.message },
            ],
          },
        },
      });
    }
  });

  it('2026-07-28: InputRequiredResult only where the revision allows it and the client declared URL mode', () => {
    const v = '2026-07-28';
    const mrtr = mcpAnswer({ ...base, method: 'prompts/get', protocolVersion: v }, offer, () => 'state');
    expect(mrtr).toMatchObject({
      status: 200,
      body: {
        id: 'x1',
        result: {
          resultType: 'input_required',
          requestState: 'state',
          inputRequests: { keygate_connect: { method: 'elicitation/create', params: { mode: 'url' } } },
        },
      },
    });
    const noUrl = mcpAnswer(
      { ...base, method: 'tools/call', protocolVersion: v, urlElicitation: false },
      offer,
      () => '',
    );
    expect([noUrl.status, (noUrl.body['error'] as { code: number }).code]).toEqual([400, -32021]);
    const other = mcpAnswer({ ...base, method: 'tools/list', protocolVersion: v }, offer, () => '');
    expect([other.status, (other.body['error'] as { code: number }).code]).toEqual([200, -32010]);
  });

  it('anything else: RFC 9457 problem details with connect_url', () => {
    const answer = problemAnswer(offer, 'req-1');
    expect(answer).toMatchObject({
      status: 401,
      contentType: 'application/problem+json',
      body: { code: 'reauth_required', connect_url: offer.url, integration: 'github', account: 'default' },
    });
  });
});

describe('requestState', () => {
  const subject: StateSubject = {
    keyId: 'k1',
    tenant: 'acme',
    integration: 'github',
    account: 'default',
    method: 'tools/call',
    name: 'search',
  };

  it('is valid for the same principal and request until it expires', () => {
    const state = makeRequestState(subject, 1000);
    expect(checkRequestState(state, subject, 2000)).toBe('valid');
    expect(checkRequestState(state, subject, 1000 + 3_600_001)).toBe('invalid');
    expect(checkRequestState(state, { ...subject, keyId: 'k2' }, 2000)).toBe('invalid');
    expect(checkRequestState(state, { ...subject, name: 'delete' }, 2000)).toBe('invalid');
    expect(checkRequestState('keygate.v1.@@@', subject, 2000)).toBe('invalid');
  });

  it('leaves an upstream server’s own state alone', () => {
    expect(checkRequestState('eyJzdGF0ZSI6MX0', subject)).toBe('foreign');
    expect(checkRequestState(undefined, subject)).toBe('foreign');
  });
});
