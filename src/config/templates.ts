// The official OpenAI and Anthropic SDKs wait up to 10 minutes for an answer, and
// reasoning models often take more than a minute before the first byte; a shorter
// timeout here would cut the answer and the SDK would start the generation again.
const AI_TIMEOUTS = { headersTimeoutMs: 600_000, bodyTimeoutMs: 600_000 };

/**
 * The built-in catalogue an integration can start from with `template: NAME`.
 * Only non-secret facts: where the API lives and how it takes its credential.
 */
export const TEMPLATES: Readonly<Record<string, Record<string, unknown>>> = Object.freeze({
  github: {
    baseUrl: 'https://api.github.com',
    auth: {
      type: 'oauth2',
      authorizationUrl: 'https://github.com/login/oauth/authorize',
      tokenUrl: 'https://github.com/login/oauth/access_token',
      tokenEndpointAuthMethod: 'client_secret_post',
    },
    headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
  },
  slack: {
    baseUrl: 'https://slack.com/api',
    auth: {
      type: 'oauth2',
      authorizationUrl: 'https://slack.com/oauth/v2/authorize',
      tokenUrl: 'https://slack.com/api/oauth.v2.access',
      tokenEndpointAuthMethod: 'client_secret_post',
    },
  },
  google: {
    baseUrl: 'https://www.googleapis.com',
    auth: {
      type: 'oauth2',
      authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      revocationUrl: 'https://oauth2.googleapis.com/revoke',
      tokenEndpointAuthMethod: 'client_secret_post',
    },
  },
  xero: {
    baseUrl: 'https://api.xero.com',
    auth: {
      type: 'oauth2',
      authorizationUrl: 'https://login.xero.com/identity/connect/authorize',
      tokenUrl: 'https://identity.xero.com/connect/token',
      revocationUrl: 'https://identity.xero.com/connect/revocation',
      tokenEndpointAuthMethod: 'client_secret_basic',
    },
  },
  stripe: {
    baseUrl: 'https://api.stripe.com',
    auth: { type: 'api_key' },
    inject: { basic: { username: '{token}', password: '' } },
  },
  anthropic: {
    baseUrl: 'https://api.anthropic.com',
    auth: { type: 'api_key' },
    inject: { header: 'x-api-key', format: '{token}' },
    // A default: an SDK that sends its own (newer) version keeps it.
    headers: { 'anthropic-version': '2023-06-01' },
    upstream: AI_TIMEOUTS,
  },
  openai: { baseUrl: 'https://api.openai.com', auth: { type: 'api_key' }, upstream: AI_TIMEOUTS },
  elevenlabs: {
    baseUrl: 'https://api.elevenlabs.io',
    auth: { type: 'api_key' },
    inject: { header: 'xi-api-key', format: '{token}' },
    upstream: AI_TIMEOUTS,
  },
  hume: {
    baseUrl: 'https://api.hume.ai',
    auth: { type: 'api_key' },
    inject: { header: 'X-Hume-Api-Key', format: '{token}' },
    upstream: AI_TIMEOUTS,
  },
});
