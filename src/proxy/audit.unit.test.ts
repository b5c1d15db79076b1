import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ProxyReply, ProxyRequest } from '../http/exchange.ts';
import { infoLineWriter } from '../observability/hot-line.ts';
import { createLogger, flushLogs } from '../observability/logger.ts';
import { isSecretKey } from '../observability/redact.ts';
import { auditLine } from './audit.ts';
import { CallerGone, type ProxyState } from './state.ts';

function capture(level = 'info') {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
  return { logger: createLogger({ stream, level }), lines };
}

function state(over: Partial<ProxyState>): ProxyState {
  return {
    transport: 'http',
    target: undefined,
    tenant: 'acme',
    integration: 'github',
    account: 'default',
    method: 'GET',
    path: '/repos/x',
    startedAt: performance.now() - 12.3,
    caller: { kind: 'key', id: 'k0123456789abcdef' },
    attempts: 1,
    upstreamMs: 7.6,
    callerGone: new CallerGone(),
    exchange: undefined,
    ready: undefined,
    span: undefined,
    ...over,
  };
}
const reply = (error?: string) =>
  ({ getHeader: (n: string) => (n === 'x-keygate-error' ? error : undefined) }) as unknown as ProxyReply;
const request = { id: 'req-1' } as ProxyRequest;

// What the audit line was before it was made by hand: an entry through winston's format chain.
function entryOf(s: ProxyState, error: string | undefined, status: number) {
  const path = s.path.length > 512 ? `${s.path.slice(0, 512)}…` : s.path;
  return {
    message: 'proxy request',
    event: 'proxy_request',
    requestId: request.id,
    tenant: s.tenant.slice(0, 64),
    integration: s.integration.slice(0, 64),
    account: s.account,
    caller: s.caller?.id,
    transport: s.transport,
    method: s.method,
    path,
    status,
    keygateError: error,
    attempts: s.attempts,
    upstreamMs: Math.round(s.upstreamMs),
  };
}

const without = (line: string | undefined, ...names: string[]) => {
  const parsed = JSON.parse(line ?? '{}') as Record<string, unknown>;
  for (const name of names) delete parsed[name];
  return parsed;
};

describe('the audit line', () => {
  const cases: Array<[string, ProxyState, string | undefined, number]> = [
    ['a plain request', state({}), undefined, 200],
    ['a refusal before the caller is known', state({ caller: undefined }), 'unauthorized', 401],
    ['a WebSocket', state({ transport: 'websocket', path: '/realtime' }), undefined, 101],
    ['a caller that hung up', state({ attempts: 2 }), undefined, 499],
    [
      'text that needs escaping',
      state({ tenant: 'a"b\\c', integration: 'x\ny', path: '/ü/"quoted"/\u0001/\u2028' }),
      'invalid_name',
      400,
    ],
    [
      'secret-shaped values in the path and names',
      state({ tenant: 'kg_abc.def', path: '/x/kg_abc123.secretpart/Bearer abc.def/vault:v1:AAAA' }),
      undefined,
      404,
    ],
    ['a long path', state({ path: `/${'p'.repeat(700)}` }), undefined, 200],
  ];

  it('is the line logger.info writes for the same entry, redaction included', async () => {
    for (const [name, s, error, status] of cases) {
      const viaWinston = capture();
      viaWinston.logger.info(entryOf(s, error, status));
      const direct = capture();
      infoLineWriter(direct.logger)(auditLine(request, reply(error), s, status));
      flushLogs(viaWinston.logger);
      flushLogs(direct.logger);
      expect(direct.lines, name).toHaveLength(1);
      expect({ name, ...without(direct.lines[0], 'timestamp', 'totalMs') }).toEqual({
        name,
        ...without(viaWinston.lines[0], 'timestamp'),
      });
      const parsed = JSON.parse(direct.lines[0] as string) as Record<string, unknown>;
      expect(typeof parsed['totalMs']).toBe('number');
      expect(parsed['timestamp']).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(direct.lines[0]).not.toMatch(/kg_abc|secretpart|vault:v1/);
    }
  });

  it('has no secret-shaped field name, so redaction would drop none of it', () => {
    const fields = Object.keys(JSON.parse(auditLine(request, reply('x'), state({}), 200)) as object);
    expect(fields.filter(isSecretKey)).toEqual([]);
  });

  it('is written only when the logger would write an info line', async () => {
    const quiet = capture('warn');
    const write = infoLineWriter(quiet.logger);
    expect(write.enabled()).toBe(false);
    const silent = capture();
    silent.logger.silent = true;
    infoLineWriter(silent.logger)('{"message":"dropped"}');
    flushLogs(quiet.logger);
    flushLogs(silent.logger);
    expect([...quiet.lines, ...silent.lines]).toEqual([]);
  });
});
