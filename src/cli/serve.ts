import type { Config } from '../config/schema.ts';
import { startKeygate } from '../keygate.ts';
import { createLogger } from '../observability/logger.ts';

/** `keygate serve`: runs until SIGTERM or SIGINT, then drains and stops. */
export async function serve(config: Readonly<Config>): Promise<void> {
  const logger = createLogger({ level: config.log.level });
  const keygate = await startKeygate(config, logger);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info('stopping', { event: 'stopping', signal });
      keygate.close().then(resolve, resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  logger.info('stopped', { event: 'stopped' });
}
