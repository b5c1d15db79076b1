import { createServer } from 'node:net';

/** Whether nothing listens on 127.0.0.1:port (tried by listening on it, then letting go). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The ports among `wanted` (name → port; 0 = any) that are taken, each with its name. */
export async function busyPorts(wanted: Record<string, number>): Promise<string[]> {
  const busy: string[] = [];
  for (const [name, port] of Object.entries(wanted)) {
    if (port !== 0 && !(await portIsFree(port))) busy.push(`${port} (${name})`);
  }
  return busy;
}
