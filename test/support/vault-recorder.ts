import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface VaultCall {
  method: string;
  /** The API path without `/v1/`, e.g. `secret/data/keygate/leases/acme/crm`. */
  path: string;
}

/**
 * An HTTP front for the real OpenBao that records every request Keygate sends it (method
 * and path, never a body or a header), to count what an operation costs Vault. `writes`
 * are the requests that change storage: KV data and metadata writes and deletes (Transit
 * encrypt/decrypt are POSTs that write nothing, and are counted apart).
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

export const isStorageWrite = (c: VaultCall): boolean =>
  (c.method === 'POST' || c.method === 'PUT' || c.method === 'DELETE') &&
  /^[^/]+\/(data|metadata)\//.test(c.path);

export const isTransit = (c: VaultCall): boolean => c.path.startsWith('transit/');

export async function startVaultRecorder(target: string): Promise<VaultRecorder> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const calls: VaultCall[] = [];
  let slowed: { filter: (call: VaultCall) => boolean; ms: number } | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const call = { method: req.method ?? 'GET', path: url.replace(/^\/v1\//, '').replace(/\?.*$/, '') };
    calls.push(call);
    const delay = slowed?.filter(call) ? slowed.ms : 0;
    if (delay > 0) req.pause();
    setTimeout(() => forward(req, res, url), delay);
  });
  const forward = (req: IncomingMessage, res: ServerResponse, url: string) => {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
    req.resume();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}`,
    calls,
    slow(filter, ms = 0) {
      slowed = filter ? { filter, ms } : undefined;
    },
    since: (from, filter = () => true) => calls.slice(from).filter(filter),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
