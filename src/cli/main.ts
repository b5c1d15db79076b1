import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { startKeygate } from '../keygate.ts';
import { createLogger } from '../observability/logger.ts';
import { ROTATE_USAGE, rotateKey } from './rotate-key.ts';

const USAGE = `usage:
  keygate serve --config FILE      run the proxy (KEYGATE_CONFIG may name the file)
${ROTATE_USAGE}`;

/** Bad usage or configuration: exit status 2, with a message that says what to fix. */
class UsageError extends Error {}

/** Exit statuses: 0 done, 1 failed at run time, 2 bad usage or configuration. */
export async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    if (command === 'serve') return await serve(sub === undefined ? [] : [sub, ...rest]);
    if (command === 'vault' && sub === 'rotate-key') {
      return await rotateKey(rest, loadConfig, createLogger({ level: 'warn', stream: process.stderr }));
    }
    throw new UsageError(
      command ? `unknown command: ${[command, sub].filter(Boolean).join(' ')}` : 'no command',
    );
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || isParseArgsError(err)) {
      process.stderr.write(`keygate: ${(err as Error).message}\n${err instanceof ConfigError ? '' : USAGE}`);
      return 2;
    }
    throw err;
  }
}

function loadConfig(path: string | undefined): Readonly<Config> {
  const file = path ?? process.env['KEYGATE_CONFIG'];
  if (!file) throw new UsageError('needs --config FILE or KEYGATE_CONFIG');
  return loadConfigFile(file);
}

const isParseArgsError = (err: unknown) =>
  typeof (err as { code?: unknown })?.code === 'string' &&
  (err as { code: string }).code.startsWith('ERR_PARSE_ARGS');

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true });
  const config = loadConfig(values.config);
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
