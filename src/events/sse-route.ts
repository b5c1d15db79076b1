import type { FastifyInstance } from 'fastify';
import type { KeygateEvent } from './catalogue.ts';
import type { EventLog } from './event-log.ts';
import { adminDoc, adminErrors } from '../http/schemas.ts';

export interface EventsRouteDeps {
  events: EventLog;
  heartbeatMs: number;
}

const format = (event: KeygateEvent) =>
  `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;

/**
 * GET /v1/events: this replica's events as server-sent events. A client that
 * reconnects with Last-Event-ID gets what it missed from the bounded buffer first;
 * heartbeat comments keep idle proxies from closing the stream.
 */
export function sseRoute(app: FastifyInstance, { events, heartbeatMs }: EventsRouteDeps): void {
  const open = new Set<() => void>();
  // Streams never end on their own; end them so that closing the server is not held up.
  app.addHook('preClose', (done) => {
    for (const end of open) end();
    done();
  });

  const schema = {
    ...adminDoc(
      'Lifecycle events as server-sent events',
      'event: is the event name, data: JSON with at least tenant and integration. Resume with Last-Event-ID.',
    ),
    response: {
      200: {
        description: 'An endless text/event-stream.',
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      },
      ...adminErrors(),
    },
  };
  app.get('/events', { schema }, (request, reply) => {
    const header = request.headers['last-event-id'];
    const lastEventId = typeof header === 'string' && header.length <= 64 ? header : undefined;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    res.write(': keygate events\nretry: 2000\n\n');
    // Replay and subscribe in one synchronous step, so no event falls between the two.
    const missed = events.since(lastEventId);
    if (missed.gap) res.write(': some events were no longer buffered\n\n');
    for (const event of missed.events) res.write(format(event));
    const unsubscribe = events.subscribe((event) => res.write(format(event)));
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(end);
      if (!res.writableEnded) res.end();
    };
    open.add(end);
    request.raw.once('close', end);
    res.once('close', end);
  });
}
