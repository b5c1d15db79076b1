import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load.ts';
import { IntegrationSchema } from './schema.ts';
import { TEMPLATE_ABOUT, TEMPLATES, TemplateAboutSchema } from './templates.ts';

const env = { VAULT_TOKEN: 'vault-token-for-tests' };
const names = Object.keys(TEMPLATES);

/** An integration as an operator would write it: the template, a client id, each placeholder set. */
function integrationYaml(name: string): string {
  const auth = (TEMPLATES[name]?.['auth'] ?? {}) as { type?: string };
  const clientId = auth.type === 'api_key' ? '' : ', auth: { type: ' + auth.type + ', clientId: client-id }';
  const filled = Object.keys(TEMPLATE_ABOUT[name]?.placeholders ?? {});
  const overrides = filled.length === 0 ? '' : ` # placeholders: ${filled.join(', ')}`;
  return `  ${name}: { template: ${name}${clientId} }${overrides}\n`;
}

describe('the template catalogue (templates.json)', () => {
  it('validates every template against the configuration schema', () => {
    const problems = names.flatMap((name) => [
      ...[...Value.Errors(IntegrationSchema, TEMPLATES[name])].map((e) => `${name}${e.path}: ${e.message}`),
      ...[...Value.Errors(TemplateAboutSchema, TEMPLATE_ABOUT[name])].map(
        (e) => `${name}.about${e.path}: ${e.message}`,
      ),
    ]);
    expect(problems).toEqual([]);
  });

  it('holds the AI and SaaS providers the catalogue promises, each under a valid integration name', () => {
    expect(names.length).toBeGreaterThanOrEqual(30);
    const promised = [
      ...['anthropic', 'openai', 'gemini', 'mistral', 'cohere', 'groq', 'perplexity', 'deepgram'],
      ...['elevenlabs', 'hume', 'github', 'gitlab', 'slack', 'google', 'microsoft-graph', 'notion'],
      ...['linear', 'atlassian', 'salesforce', 'hubspot', 'stripe', 'xero', 'quickbooks', 'zoom'],
      ...['dropbox', 'box', 'asana', 'discord', 'shopify', 'twilio'],
    ];
    expect(promised.filter((n) => !names.includes(n))).toEqual([]);
    for (const name of names) expect(name).toMatch(/^[a-z0-9][a-z0-9_-]{0,62}$/);
  });

  it('gives every AI API upstream timeouts of at least 10 minutes (slow first bytes)', () => {
    for (const name of names.filter((n) => TEMPLATE_ABOUT[n]?.category === 'ai')) {
      const upstream = TEMPLATES[name]?.['upstream'] as { headersTimeoutMs?: number } | undefined;
      expect([name, (upstream?.headersTimeoutMs ?? 0) >= 600_000]).toEqual([name, true]);
    }
  });

  it('loads a per-shop template once the integration sets its placeholders', () => {
    const shop = 'https://acme.myshopify.com';
    const config = parseConfig(
      `integrations:
  acme-shop:
    template: shopify
    baseUrl: ${shop}
    auth: { type: oauth2, clientId: c, authorizationUrl: "${shop}/admin/oauth/authorize", tokenUrl: "${shop}/admin/oauth/access_token" }
`,
      env,
    );
    expect(config.integrations['acme-shop']).toMatchObject({
      baseUrl: shop,
      inject: { header: 'X-Shopify-Access-Token' },
    });
  });

  it('loads each placeholder-free template as a whole configuration, with nothing else to add', () => {
    const plain = names.filter((n) => TEMPLATE_ABOUT[n]?.placeholders === undefined);
    const config = parseConfig(`integrations:\n${plain.map(integrationYaml).join('')}`, env);
    expect(Object.keys(config.integrations).sort()).toEqual(plain.sort());
  });

  it('refuses a template whose placeholders the integration left in place, naming each field', () => {
    for (const name of names.filter((n) => TEMPLATE_ABOUT[n]?.placeholders !== undefined)) {
      let problems: readonly string[] = [];
      try {
        parseConfig(`integrations:\n${integrationYaml(name)}`, env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        problems = (err as ConfigError).problems;
      }
      for (const placeholder of Object.keys(TEMPLATE_ABOUT[name]?.placeholders ?? {})) {
        expect(problems.some((p) => p.includes(`replace {${placeholder}}`))).toBe(true);
      }
    }
  });
});

describe('upstream budgets in the catalogue', () => {
  it('learns the rate limit of every AI provider known to send it in headers, in its own style', () => {
    const styles = Object.fromEntries(
      names.flatMap((n) => {
        const budget = TEMPLATES[n]?.['budget'] as { headers?: string } | undefined;
        return budget ? [[n, budget.headers]] : [];
      }),
    );
    expect(styles).toEqual({ anthropic: 'anthropic', openai: 'openai', groq: 'openai' });
  });
});
