import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type FrontMode = 'up' | 'refuse' | 'hang';

/**
 * A TCP front for the real OpenBao that a test can cut: `up` forwards byte for byte,
 * `refuse` resets every connection (Vault unreachable), `hang` accepts and never
 * answers (Vault stuck). Switching mode drops the connections already open, so
 * Keygate's kept-alive sockets cannot slip past the outage.
 */
export interface VaultFront {
  address: string;
  /** Connections accepted in each mode so far. */
  connections: Record<FrontMode, number>;
  set(mode: FrontMode): void;
  stop(): Promise<void>;
}

export async function startVaultFront(target: string): Promise<VaultFront> {
  const { hostname, port } = new URL(target);
  let mode: FrontMode = 'up';
  const open = new Set<Socket>();
  const connections: Record<FrontMode, number> = { up: 0, refuse: 0, hang: 0 };
  const server = createServer((client) => {
    connections[mode] += 1;
    client.on('error', () => {});
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    open.add(client);
    client.once('close', () => open.delete(client));
    if (mode === 'hang') return;
    const upstream = connect(Number(port), hostname);
    upstream.on('error', () => client.destroy());
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: frontPort } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${frontPort}`,
    connections,
    set(next) {
      mode = next;
      for (const socket of open) socket.destroy();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
