import type { Command } from 'commander';
import { DEFAULT_ACCOUNT, credentialRef, refKey } from '../../credentials/ref.ts';
import { openBrowser } from '../browser.ts';
import { checkNames, commaList, contextOf, positiveInt } from '../context.ts';
import { openEventStream, type StreamEvent } from '../event-stream.ts';
import { CliError } from '../output.ts';

interface ConnectOptions {
  scopes?: string[];
  account?: string;
  timeout: number;
  browser: boolean;
}

/**
 * `keygate connect TENANT INTEGRATION`: starts the OAuth flow, prints the authorization
 * URL (and opens it where there is a browser), then waits for Keygate's `connected`,
 * `connect-failed` or `needs-reauth` event for that credential, up to --timeout.
 */
export function connectCommand(program: Command): void {
  program
    .command('connect')
    .description('connect a tenant to an OAuth integration: prints the URL to open, waits until it is done')
    .argument('<tenant>')
    .argument('<integration>')
    .option('--scopes <scopes>', 'scopes to ask for instead of the configured ones (a,b)', commaList)
    .option('-a, --account <account>', 'the account to store the credential under (default: default)')
    .option('--timeout <seconds>', 'give up waiting after this long', positiveInt, 600)
    .option('--no-browser', 'only print the URL (also: KEYGATE_NO_BROWSER=1)')
    .action(async (tenant: string, integration: string, options: ConnectOptions, command: Command) => {
      const { client, out } = contextOf(command);
      checkNames({ tenant, integration, account: options.account });
      const wanted = credentialRef(tenant, integration, options.account);
      let settle: (event: StreamEvent) => void = () => {};
      const outcome = new Promise<StreamEvent>((resolve) => (settle = resolve));
      // Subscribed before the flow starts, so the event cannot come before we listen.
      const stream = await openEventStream(client, (event) => {
        const { tenant: t, integration: i, account: a = DEFAULT_ACCOUNT } = event.data;
        if (t !== wanted.tenant || i !== wanted.integration || a !== wanted.account) return;
        if (event.event === 'connected' || event.event === 'connect-failed' || event.event === 'needs-reauth')
          settle(event);
      });
      try {
        const body: Record<string, unknown> = {};
        if (options.scopes) body['scopes'] = options.scopes;
        if (wanted.account !== DEFAULT_ACCOUNT) body['account'] = wanted.account;
        const started = await client.call<{ authorizationUrl: string; expiresAt?: string }>(
          'POST',
          `/v1/tenants/${tenant}/connect/${integration}`,
          body,
        );
        out.result(
          { authorizationUrl: started.authorizationUrl, expiresAt: started.expiresAt },
          () => started.authorizationUrl,
        );
        const opened = options.browser && openBrowser(started.authorizationUrl);
        out.note(
          `${opened ? 'Opened in your browser; if' : 'Open this URL in a browser (the tenant user signs in there); if'} it is somewhere else, send it there. Waiting up to ${options.timeout} s for ${tenant}/${integration} to connect (Ctrl-C stops waiting).`,
        );
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'timeout'>(
          (resolve) => (timer = setTimeout(() => resolve('timeout'), options.timeout * 1000)),
        );
        const ended = stream.ended.then(() => 'ended' as const);
        const result = await Promise.race([outcome, deadline, ended]);
        clearTimeout(timer);
        if (result === 'timeout') {
          throw new CliError(
            `${tenant}/${integration} did not connect within ${options.timeout} s (the link works until ${started.expiresAt ?? 'oauth.stateTtlSeconds runs out'}); run keygate connect again for a new one`,
            1,
            'timeout',
          );
        }
        if (result === 'ended')
          throw new CliError('Keygate closed the event stream before the connection finished', 1);
        if (result.event === 'connect-failed') {
          const code = String(result.data['error'] ?? 'unknown');
          throw new CliError(`${tenant}/${integration} did not connect: ${code}; ${remedy(code)}`, 1, code);
        }
        if (result.event === 'needs-reauth') {
          throw new CliError(
            `${tenant}/${integration} failed: ${String(result.data['reason'] ?? result.data['error'] ?? 'needs re-authorisation')}`,
            1,
            'needs_reauth',
          );
        }
        out.result({ event: result.event, ...result.data }, () => {
          const scopes = Array.isArray(result.data['scopes'])
            ? (result.data['scopes'] as string[]).join(' ')
            : '';
          return `connected ${refKey(wanted)}${scopes ? ` (scopes: ${scopes})` : ''}`;
        });
      } finally {
        stream.close();
      }
    });
}

// What the operator can do about each way a callback fails (the codes of docs/errors.md).
function remedy(code: string): string {
  switch (code) {
    case 'oauth_denied':
      return 'the provider did not grant access (consent refused, or the code was refused); run keygate connect again and approve it';
    case 'oauth_state_invalid':
      return 'the flow expired (oauth.stateTtlSeconds) or was used already; run keygate connect again for a new link';
    case 'oauth_issuer_mismatch':
      return "the provider's iss is not the integration's issuer: check auth.issuer in the configuration (a mix-up attack is also possible)";
    case 'token_endpoint_unavailable':
      return "the provider's token endpoint did not answer; try keygate connect again later";
    default:
      return 'see docs/errors.md, then run keygate connect again';
  }
}
