// The local servers `npm run dev` starts beside Keygate, so everything the banner, the quick
// start and the examples show works offline: an upstream that tells what reached it, an
// OAuth provider, stand-ins for the OpenAI and Anthropic APIs, and the webhook relay.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAnthropicStandIn, startOpenAiStandIn } from '../../test/support/ai-providers.ts';
import { startOAuthProvider } from '../../test/support/oauth-provider.ts';
import { startWebhookRelay } from './webhook-relay.ts';

/** How long the demo provider's access tokens live: with the 300 s refresh buffer, Keygate
 * renews each about ten minutes after it was issued (the banner says when, from dueTime). */
export const DEMO_TOKEN_SECONDS = 900;

export interface DemoServers {
  echoUrl: string;
  oauthUrl: string;
  openai: { url: string; apiKey: string };
  anthropic: { url: string; apiKey: string };
  /** KEYGATE_DEV_* for examples/keygate.dev.yaml. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startDemoServers(webhookReceiverPort: number): Promise<DemoServers> {
  const stops: (() => Promise<unknown>)[] = [];
  try {
    // The demo upstream: tells what reached it, with the injected credential masked.
    const echo = createServer((req, res) => {
      const key = req.headers['x-api-key'];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          upstream: 'echo',
          method: req.method,
          path: req.url,
          injectedApiKey: typeof key === 'string' ? `${key.slice(0, 5)}... (${key.length} chars)` : null,
          callerAuthorizationForwarded: req.headers.authorization !== undefined,
        }),
      );
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    stops.push(() => new Promise((r) => echo.close(r)));
    const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;

    // The demo OAuth provider: consent is a redirect back at once.
    const oauth = await startOAuthProvider({
      clientId: 'keygate-dev-client',
      authMethod: 'client_secret_post',
      expiresIn: DEMO_TOKEN_SECONDS,
    });
    stops.push(() => oauth.stop());
    const openai = await startOpenAiStandIn();
    stops.push(() => openai.stop());
    const anthropic = await startAnthropicStandIn();
    stops.push(() => anthropic.stop());
    const relay = await startWebhookRelay(webhookReceiverPort);
    stops.push(() => relay.stop());

    return {
      echoUrl,
      oauthUrl: oauth.url,
      openai: { url: openai.url, apiKey: openai.apiKey },
      anthropic: { url: anthropic.url, apiKey: anthropic.apiKey },
      env: {
        KEYGATE_DEV_ECHO_URL: echoUrl,
        KEYGATE_DEV_OAUTH_URL: oauth.url,
        KEYGATE_DEV_OAUTH_CLIENT_SECRET: oauth.clientSecret,
        KEYGATE_DEV_OPENAI_URL: openai.url,
        KEYGATE_DEV_ANTHROPIC_URL: anthropic.url,
        KEYGATE_DEV_WEBHOOK_URL: relay.url,
      },
      stop: async () => {
        for (const stop of stops.reverse()) await stop().catch(() => {});
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    throw err;
  }
}
