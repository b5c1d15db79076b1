import { Command, CommanderError, Option } from 'commander';
import type { Config } from '../config/schema.ts';
import { DEFAULT_URL } from './admin-client.ts';
import { connectCommand } from './commands/connect.ts';
import { credentialsCommand } from './commands/credentials.ts';
import { eventsCommand } from './commands/events.ts';
import { keysCommand } from './commands/keys.ts';
import { catalogueCommands, statusCommand } from './commands/status.ts';
import { CliError, Output } from './output.ts';

const EXIT_CODES = `
Environment:
  KEYGATE_URL          where Keygate listens (default ${DEFAULT_URL}; --url overrides)
  KEYGATE_ADMIN_TOKEN  the admin token; never taken from the command line (ps shows argv)
  KEYGATE_CONFIG       the configuration file of keygate serve (--config overrides)

Exit status: 0 done, 1 failed (Keygate answered an error, is unreachable, a wait ran out),
2 bad usage or configuration (unknown option, bad name, missing token).`;

/** The `keygate` program; commander parses, each command lives in ./commands. */
export function buildProgram(): Command {
  const program = new Command('keygate')
    .description('Keygate: a Vault-backed, credential-injecting reverse proxy, and its operator CLI')
    .addOption(new Option('--url <url>', 'the Keygate to talk to').env('KEYGATE_URL').default(DEFAULT_URL))
    .option('--json', "print Keygate's JSON answers (one object per line) instead of text")
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_CODES)
    .exitOverride();

  program
    .command('serve')
    .description('run the proxy (for real deployments; `npm run dev` for a local one)')
    .addOption(new Option('-c, --config <file>', 'the YAML configuration').env('KEYGATE_CONFIG'))
    .action(async (options: { config?: string }) => {
      // Loaded on use: the admin commands start without the server's dependencies.
      const { serve } = await import('./serve.ts');
      await serve(await loadConfig(options.config));
    });

  program
    .command('vault')
    .description('Vault maintenance (talks to Vault directly, with the configuration of keygate serve)')
    .command('rotate-key')
    .description("rotate a tenant's Transit key and rewrap its records; reads keep working throughout")
    .requiredOption('--tenant <tenant>', 'the tenant whose key to rotate')
    .addOption(new Option('-c, --config <file>', 'the YAML configuration').env('KEYGATE_CONFIG'))
    .action(async (options: { tenant: string; config?: string }) => {
      const { rotateKey } = await import('./rotate-key.ts');
      const { createLogger } = await import('../observability/logger.ts');
      const logger = createLogger({ level: 'warn', stream: process.stderr });
      process.exitCode = await rotateKey(options.tenant, await loadConfig(options.config), logger);
    });

  keysCommand(program);
  credentialsCommand(program);
  connectCommand(program);
  eventsCommand(program);
  statusCommand(program);
  catalogueCommands(program);

  // Every subcommand reports its errors through main (exit 2), not by exiting itself.
  const override = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Exit statuses: 0 done, 1 failed at run time, 2 bad usage or configuration. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv, { from: 'user' });
    const code = process.exitCode ?? 0;
    process.exitCode = undefined;
    return Number(code);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the message (or the help) already.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    const json = argv.includes('--json');
    if (err instanceof Error && err.name === 'ConfigError') {
      process.stderr.write(`keygate: ${err.message}\n`);
      return 2;
    }
    if (err instanceof CliError) {
      new Output(json).error(err);
      return err.exitCode;
    }
    throw err;
  }
}

async function loadConfig(path: string | undefined): Promise<Readonly<Config>> {
  if (!path) throw new CliError('needs --config FILE or KEYGATE_CONFIG', 2);
  const { loadConfigFile } = await import('../config/load.ts');
  return loadConfigFile(path);
}
