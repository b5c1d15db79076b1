import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { TestKeygate } from '../support/keygate.ts';
import { freePort } from '../support/ports.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';

const tenant = uniqueTenant('ws');
const TOKEN = 'realtime-api-key-canary-7f8e9d';

interface Handshake {
  url: string;
  headers: IncomingMessage['headers'];
}

/** A realtime API: says hello, echoes every frame (text stays text, binary stays binary), closes on request. */
async function startRealtimeUpstream() {
  const handshakes: Handshake[] = [];
  const closes: number[] = [];
  const server: Server = createServer((_req, res) => res.writeHead(426).end('upgrade required'));
  const wss = new WebSocketServer({
    server,
    verifyClient: ({ req }, done) => {
      handshakes.push({ url: req.url ?? '', headers: req.headers });
      if (req.url?.includes('/refused')) done(false, 403);
      else done(true);
    },
  });
  wss.on('connection', (ws) => {
    ws.send('hello');
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'close please') ws.close(4001, 'asked to');
      else ws.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary });
    });
    ws.on('close', (code) => closes.push(code));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    handshakes,
    closes,
    connections: () => wss.clients.size,
    stop: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Opens a WebSocket; resolves on open with the frames it gets, or with the HTTP answer that refused it. */
function connect(url: string, headers: Record<string, string>) {
  const ws = new WebSocket(url, { headers });
  const frames: Array<{ data: string; binary: boolean }> = [];
  ws.on('message', (data, binary) => frames.push({ data: (data as Buffer).toString(), binary }));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  const opened = new Promise<
    { open: true } | { open: false; status: number; headers: IncomingMessage['headers']; body: string }
  >((resolve, reject) => {
    ws.on('open', () => resolve({ open: true }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ open: false, status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    ws.on('error', reject);
  });
  return { ws, frames, opened, closed };
}

describe('WebSockets through /proxy', () => {
  let upstream: Awaited<ReturnType<typeof startRealtimeUpstream>>;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  let base: string;

  beforeAll(async () => {
    upstream = await startRealtimeUpstream();
    const closedPort = await freePort();
    keygate = await startProxyKeygate(`
integrations:
  realtime:
    baseUrl: ${upstream.origin}/v1
    auth: { type: api_key }
  byquery:
    baseUrl: ${upstream.origin}/q
    auth: { type: api_key }
    inject: { query: key }
  gone:
    baseUrl: http://127.0.0.1:${closedPort}
    auth: { type: api_key }
`);
    for (const i of ['realtime', 'byquery', 'gone'])
      await keygate.putCredential(tenant, i, { apiKey: TOKEN });
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
    base = `${keygate.url.replace(/^http/, 'ws')}/proxy/${tenant}`;
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
  });

  it('injects the credential into the handshake and pipes frames both ways until the caller closes', async () => {
    const { ws, frames, opened, closed } = connect(`${base}/realtime/realtime?model=m1`, {
      authorization: `Bearer ${key}`,
      'x-api-key': key,
    });
    expect(await opened).toEqual({ open: true });
    const handshake = upstream.handshakes.at(-1)!;
    expect(handshake.url).toBe('/v1/realtime?model=m1');
    expect(handshake.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(handshake.headers['x-api-key']).toBeUndefined();
    expect(handshake.headers.host).toBe(new URL(upstream.origin).host);
    expect(JSON.stringify(handshake.headers)).not.toContain(key);
    await waitFor('the hello', () => frames.some((f) => f.data === 'hello'));
    ws.send('ping-1');
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await waitFor('both echoes', () => frames.length === 3);
    expect(frames).toEqual([
      { data: 'hello', binary: false },
      { data: 'echo:ping-1', binary: false },
      { data: Buffer.from([1, 2, 3]).toString(), binary: true },
    ]);
    ws.close(4000, 'done');
    expect(await closed).toBe(4000);
    await waitFor('the upstream to see the close', () => upstream.closes.includes(4000));
    const audit = await waitFor('the audit line', () =>
      keygate.lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((e) => e['transport'] === 'websocket' && e['status'] === 101),
    );
    expect(audit).toMatchObject({ tenant, integration: 'realtime', path: '/realtime' });
    expect(keygate.lines.join('\n')).not.toContain(TOKEN);
  });

  it('passes the close of the upstream to the caller', async () => {
    const { ws, opened, closed } = connect(`${base}/realtime/x`, { 'x-api-key': key });
    expect(await opened).toEqual({ open: true });
    ws.send('close please');
    expect(await closed).toBe(4001);
  });

  it('injects a query credential, replacing one the caller sent', async () => {
    const { ws, opened, closed } = connect(`${base}/byquery/stream?key=caller-value&a=1`, {
      authorization: `Bearer ${key}`,
    });
    expect(await opened).toEqual({ open: true });
    expect(upstream.handshakes.at(-1)!.url).toBe(`/q/stream?a=1&key=${TOKEN}`);
    ws.close();
    await closed;
  });

  it('refuses a caller without a valid key before any upstream handshake', async () => {
    const before = upstream.handshakes.length;
    const { opened } = connect(`${base}/realtime/x`, { authorization: 'Bearer kg_nope.nope' });
    const answer = await opened;
    expect(answer).toMatchObject({ open: false, status: 401 });
    if (answer.open) throw new Error('opened');
    expect(answer.headers['x-keygate-error']).toBe('unauthorized');
    expect(JSON.parse(answer.body).error.code).toBe('unauthorized');
    const other = await connect(`${base}/nope/x`, { authorization: `Bearer ${key}` }).opened;
    expect(other).toMatchObject({ open: false, status: 404 });
    expect(upstream.handshakes.length).toBe(before);
  });

  it('answers a refused upstream handshake with an HTTP error and x-keygate-error', async () => {
    const { opened } = connect(`${base}/realtime/refused`, { authorization: `Bearer ${key}` });
    const answer = await opened;
    expect(answer).toMatchObject({ open: false, status: 502 });
    if (answer.open) throw new Error('opened');
    expect(answer.headers['x-keygate-error']).toBe('upstream_handshake_failed');
    expect(JSON.parse(answer.body).error).toMatchObject({ code: 'upstream_handshake_failed' });
    expect(answer.body).not.toContain(TOKEN);
    expect(upstream.handshakes.at(-1)!.url).toBe('/v1/refused');
  });

  it('answers 502 upstream_unreachable when the upstream cannot be reached', async () => {
    const answer = await connect(`${base}/gone/x`, { authorization: `Bearer ${key}` }).opened;
    expect(answer).toMatchObject({ open: false, status: 502 });
    if (answer.open) throw new Error('opened');
    expect(answer.headers['x-keygate-error']).toBe('upstream_unreachable');
  });
});
