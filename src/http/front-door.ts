import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';

/** Takes a request off Fastify's hands: true when it serves it, false to leave it to Fastify. */
export type RawHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** What Fastify passes a serverFactory: its request handler and its processed options. */
interface FactoryOptions {
  http?: ServerOptions | null | undefined;
  keepAliveTimeout?: number | undefined;
  requestTimeout?: number | undefined;
  connectionTimeout?: number | undefined;
  maxRequestsPerSocket?: number | undefined;
}

/**
 * Fastify's `serverFactory` with a door in front of its router: a raw handler (the
 * proxy's lean path, see docs/proxy.md#benchmark) sees each request first and serves
 * the ones it can without Fastify's routing, hooks and reply machinery; everything
 * else, and every request once Keygate is closing (Fastify then answers 503), goes to
 * Fastify as before. The server is made as Fastify makes it without a factory.
 */
export class FrontDoor {
  #handler: RawHandler | undefined;
  #closing = false;

  /** Passed to Fastify as `serverFactory`. */
  readonly serverFactory = (
    fastify: (req: IncomingMessage, res: ServerResponse) => void,
    options: FactoryOptions,
  ): Server => {
    const server = createServer(options.http ?? {}, (req, res) => {
      const handler = this.#handler;
      if (handler === undefined || this.#closing || !handler(req, res)) fastify(req, res);
    });
    // What Fastify sets on the server it makes itself (lib/server.js).
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };

  /** The one raw handler; a second claim is a wiring mistake. */
  claim(handler: RawHandler): void {
    if (this.#handler !== undefined) throw new Error('the front door is already claimed');
    this.#handler = handler;
  }

  /** From now on Fastify sees every request (and answers new ones 503 while it closes). */
  close(): void {
    this.#closing = true;
  }
}
