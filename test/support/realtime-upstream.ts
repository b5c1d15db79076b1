import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface RealtimeUpstream {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  /** Each handshake's headers, in order, the refused ones too. */
  handshakes: IncomingMessage['headers'][];
  stop(): Promise<void>;
}

/**
 * A realtime API over WebSocket: a handshake is taken when `accept` says so (else 401),
 * and each connection is greeted with `hello`. Plain HTTP requests get 426.
 */
export async function startRealtimeUpstream(
  accept: (headers: IncomingMessage['headers']) => boolean = () => true,
): Promise<RealtimeUpstream> {
  const handshakes: IncomingMessage['headers'][] = [];
  const server: Server = createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({
    server,
    verifyClient: ({ req }, done) => {
      handshakes.push(req.headers);
      if (accept(req.headers)) done(true);
      else done(false, 401);
    },
  });
  wss.on('connection', (ws) => ws.send('hello'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handshakes,
    stop: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
