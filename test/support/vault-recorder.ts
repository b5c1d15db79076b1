import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface VaultCall {
  /** GET, POST, PUT, DELETE, or LIST (Vault's own verb, which node-vault sends). */
  method: string;
  /** The API path without `/v1/` and the query, e.g. `secret/data/keygate/leases/acme/crm`. */
  path: string;
}

/**
 * A TCP front for the real OpenBao that records every request Keygate sends it (method and
 * path from the request line, never a body or a header value), to count what an operation
 * costs Vault. Bytes are forwarded unchanged; it reads the request framing (Content-Length)
 * only to find where the next request on a kept-alive connection starts. A plain HTTP server
 * would not do: Node's parser refuses Vault's `LIST` verb.
 */
export interface VaultRecorder {
  address: string;
  calls: VaultCall[];
  /** Holds every request that matches `filter` for `ms` before forwarding it (a slow Vault); `undefined` stops. */
  slow(filter: ((call: VaultCall) => boolean) | undefined, ms?: number): void;
  /** Calls from `from` (an index into `calls`) on that match `filter`. */
  since(from: number, filter?: (call: VaultCall) => boolean): VaultCall[];
  stop(): Promise<void>;
}

/** Requests that change storage: KV data and metadata writes and deletes (Transit encrypt/decrypt write nothing). */
export const isStorageWrite = (c: VaultCall): boolean =>
  (c.method === 'POST' || c.method === 'PUT' || c.method === 'DELETE') &&
  /^[^/]+\/(data|metadata)\//.test(c.path);

export const isTransit = (c: VaultCall): boolean => c.path.startsWith('transit/');

export async function startVaultRecorder(target: string): Promise<VaultRecorder> {
  const { hostname, port } = new URL(target);
  const calls: VaultCall[] = [];
  const open = new Set<Socket>();
  let slowed: { filter: (call: VaultCall) => boolean; ms: number } | undefined;

  const server = createServer((client) => {
    open.add(client);
    const upstream = connect(Number(port), hostname);
    open.add(upstream);
    for (const s of [client, upstream]) s.on('error', () => (s === client ? upstream : client).destroy());
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    upstream.pipe(client);
    // Request framing: the head up to a blank line, then Content-Length bytes of body.
    let pending = Buffer.alloc(0);
    let bodyLeft = 0;
    let holdUntil = 0;
    const queue: Buffer[] = [];
    let flushing = false;
    const flush = () => {
      if (flushing) return;
      const wait = holdUntil - Date.now();
      if (wait > 0) {
        flushing = true;
        setTimeout(() => {
          flushing = false;
          flush();
        }, wait);
        return;
      }
      for (const chunk of queue.splice(0)) upstream.write(chunk);
    };
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (bodyLeft > 0) {
          const take = Math.min(bodyLeft, pending.length);
          bodyLeft -= take;
          pending = pending.subarray(take);
          if (bodyLeft > 0 || pending.length === 0) break;
        }
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) break;
        const head = pending.subarray(0, end).toString('latin1');
        pending = pending.subarray(end + 4);
        const [line = '', ...headers] = head.split('\r\n');
        const [method = '', url = ''] = line.split(' ');
        const path = url.replace(/^\/v1\//, '').replace(/\?.*$/, '');
        const call = { method: /[?&]list=true/.test(url) ? 'LIST' : method, path };
        calls.push(call);
        if (slowed?.filter(call)) holdUntil = Math.max(holdUntil, Date.now() + slowed.ms);
        const length = headers.find((h) => /^content-length:/i.test(h));
        bodyLeft = length ? Number(length.split(':')[1]) : 0;
      }
      queue.push(chunk);
      flush();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: frontPort } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${frontPort}`,
    calls,
    slow(filter, ms = 0) {
      slowed = filter ? { filter, ms } : undefined;
    },
    since: (from, filter = () => true) => calls.slice(from).filter(filter),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
