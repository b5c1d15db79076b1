import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../config/load.ts';
import { createLogger } from '../observability/logger.ts';
import { startKeygate } from '../keygate.ts';

const USAGE = `usage:
  keygate serve --config FILE      run the proxy (KEYGATE_CONFIG may name the file)
`;

/** Exit statuses: 0 done, 1 failed at run time, 2 bad usage or configuration. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'serve') return serve(rest);
  process.stderr.write(USAGE);
  return 2;
}

async function serve(args: string[]): Promise<number> {
  let path: string | undefined;
  try {
    const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true });
    path = values.config ?? process.env['KEYGATE_CONFIG'];
  } catch (err) {
    process.stderr.write(`keygate: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!path) {
    process.stderr.write(`keygate: serve needs --config FILE or KEYGATE_CONFIG\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfigFile(path);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`keygate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
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
  return 0;
}
