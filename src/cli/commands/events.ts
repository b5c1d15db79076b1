import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { checkNames, commaList, contextOf } from '../context.ts';
import { formatEvent, openEventStream, type StreamEvent } from '../event-stream.ts';
import { EVENT_TYPES } from '../../events/catalogue.ts';
import { CliError } from '../output.ts';

interface EventsOptions {
  tenant?: string;
  integration?: string;
  type?: string[];
  since?: string;
}

/** How long `keygate events` keeps trying to reconnect to a Keygate that went away. */
const RECONNECT_FOR_MS = 30_000;

/** `keygate events`: follows GET /v1/events, one readable line per event (--json: one JSON object). */
export function eventsCommand(program: Command): void {
  program
    .command('events')
    .description("follow this Keygate replica's live events, one line each, until Ctrl-C")
    .option('-t, --tenant <tenant>', 'only events about this tenant')
    .option('-i, --integration <integration>', 'only events about this integration')
    .option('--type <names>', 'only these events (refresh-success,connected,...)', commaList)
    .option('--since <id>', 'first replay the buffered events after this event id')
    .action(async (options: EventsOptions, command: Command) => {
      const { client, out } = contextOf(command);
      checkNames({ tenant: options.tenant, integration: options.integration });
      checkTypes(options.type);
      const wanted = (event: StreamEvent) =>
        (!options.tenant || event.data['tenant'] === options.tenant) &&
        (!options.integration || event.data['integration'] === options.integration) &&
        (!options.type || options.type.includes(event.event));
      const print = (event: StreamEvent) => {
        if (!wanted(event)) return;
        out.line(
          out.json
            ? JSON.stringify({ id: event.id, event: event.event, data: event.data })
            : formatEvent(event),
        );
      };
      let lastId = options.since;
      let stream = await openEventStream(client, print, { lastEventId: lastId });
      out.note(`following events from ${client.url} (Ctrl-C stops)`);
      let stopped = false;
      const stop = () => {
        stopped = true;
        stream.close();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // A stream that ends (a restart, a proxy timeout) resumes from the last event seen.
      for (;;) {
        await stream.ended.catch(() => {});
        if (stopped) return;
        lastId = stream.lastId();
        out.note('the event stream ended; reconnecting');
        const giveUpAt = Date.now() + RECONNECT_FOR_MS;
        for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
          if (stopped) return;
          try {
            stream = await openEventStream(client, print, { lastEventId: lastId });
            break;
          } catch (err) {
            if (Date.now() > giveUpAt) throw err instanceof CliError ? err : new CliError(String(err), 1);
            await sleep(delay);
          }
        }
      }
    });
}

/** An unknown --type would match nothing, silently: refused with the names there are. */
function checkTypes(types: readonly string[] | undefined): void {
  const known: readonly string[] = EVENT_TYPES;
  const unknown = (types ?? []).filter((t) => !known.includes(t));
  if (unknown.length > 0) {
    throw new CliError(
      `unknown event type ${unknown.map((t) => `"${t}"`).join(', ')}; the types are ${known.join(', ')}`,
      2,
    );
  }
}
