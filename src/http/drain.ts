import { ServerResponse, type Server } from 'node:http';

/**
 * Shutdown with keep-alive clients: once closing, every response not yet started
 * says `Connection: close` and its connection closes as it ends; a response already
 * under way ends on a connection that closes at once afterwards. Without this, a
 * connection whose request was in flight when close began stays open (keep-alive)
 * until the shutdown grace period cuts it, though its answer ended long before.
 */
export function drainOnClose(): { ServerResponse: typeof ServerResponse; begin(server: Server): void } {
  let closing = false;
  class DrainingResponse extends ServerResponse {
    override writeHead(...args: unknown[]): this {
      // One boolean per response; Node then writes `Connection: close` and ends the socket.
      if (closing) this.shouldKeepAlive = false;
      return (super.writeHead as (...a: unknown[]) => this).apply(this, args);
    }
  }
  return {
    ServerResponse: DrainingResponse as typeof ServerResponse,
    begin(server) {
      closing = true;
      // Node arms this on each connection as its response ends: 1 ms, then closed.
      server.keepAliveTimeout = 1;
    },
  };
}
