import { createHash } from 'node:crypto';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

const tenant = uniqueTenant('bp');
const CHUNK = Buffer.alloc(256 * 1024, 'k');
const TOTAL_CHUNKS = 256; // 64 MiB: far more than every socket and stream buffer between the two ends

/** What the upstream did with the large answer it is writing. */
interface Writer {
  written: number;
  /** When it last found its socket full and began waiting for 'drain'; undefined while writing. */
  waitingSince: number | undefined;
  done: boolean;
  hash: ReturnType<typeof createHash>;
}

// Writes 64 MiB as fast as its socket takes them, with each chunk's bytes numbered so a
// lost, doubled or reordered chunk changes the hash.
function writeLarge(res: ServerResponse, writer: Writer): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  let n = 0;
  const next = () => {
    writer.waitingSince = undefined;
    while (n < TOTAL_CHUNKS) {
      const chunk = Buffer.from(CHUNK);
      chunk.writeUInt32BE(n, 0);
      n += 1;
      writer.written += chunk.length;
      writer.hash.update(chunk);
      if (!res.write(chunk)) {
        writer.waitingSince = Date.now();
        res.once('drain', next);
        return;
      }
    }
    writer.done = true;
    res.end();
  };
  next();
}

describe('back-pressure: an answer is read from the upstream only as fast as the caller takes it', () => {
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  let writer: Writer;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url.includes('/sse')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: message_start\ndata: {"n":1}\n\n');
        setImmediate(() => res.end('event: message_stop\ndata: {}\n\n'));
        return;
      }
      writer = { written: 0, waitingSince: undefined, done: false, hash: createHash('sha256') };
      writeLarge(res, writer);
    });
    keygate = await startProxyKeygate(`
integrations:
  files:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
`);
    await keygate.putCredential(tenant, 'files', { apiKey: 'bp-key' });
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
  });

  const get = (path: string) => {
    const { hostname, port } = new URL(keygate.url);
    const req = request({
      host: hostname,
      port,
      path: `/proxy/${tenant}/files${path}`,
      headers: { 'x-api-key': key },
      agent: false,
    });
    req.end();
    return new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve).once('error', reject);
    });
  };

  const readAll = (res: IncomingMessage) =>
    new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      res.once('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
      res.once('error', reject);
    });

  // Both of Keygate's ways to the upstream: the lean path, and Fastify's router (which
  // takes a path with a percent-escape) with its reply streaming the answer.
  for (const [way, path] of [
    ['the lean path', '/large'],
    ["Fastify's router", '/large%20file'],
  ] as const) {
    it(`holds the upstream while the caller does not read, then delivers every byte (${way})`, async () => {
      const res = await get(path);
      expect(res.statusCode).toBe(200);
      res.pause(); // a caller that has stopped reading
      // Were Keygate reading on regardless, the upstream would finish its 64 MiB at once
      // and never wait a second for 'drain'.
      await waitFor(
        'the upstream to be held up by the caller',
        () => writer.waitingSince !== undefined && Date.now() - writer.waitingSince > 1000,
        { timeoutMs: 20_000 },
      );
      expect(writer.done).toBe(false);
      expect(writer.written).toBeLessThan(CHUNK.length * TOTAL_CHUNKS);
      const got = readAll(res);
      res.resume();
      const { bytes, sha256 } = await got;
      expect(writer.done).toBe(true);
      expect(bytes).toBe(CHUNK.length * TOTAL_CHUNKS);
      expect(sha256).toBe(writer.hash.digest('hex'));
    });
  }

  it("streams an event stream through Fastify's router too", async () => {
    const res = await fetch(`${keygate.url}/proxy/${tenant}/files/v1/sse%20stream`, {
      headers: { 'x-api-key': key },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text();
    expect(text).toContain('event: message_start');
    expect(text).toContain('event: message_stop');
    expect(upstream.received.at(-1)?.url).toBe('/v1/sse%20stream');
  });
});
