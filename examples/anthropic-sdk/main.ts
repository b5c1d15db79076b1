// The official Anthropic SDK pointed at Keygate. The SDK's base URL is Keygate's proxy path
// for the tenant's Anthropic integration and its "API key" is a Keygate key (the SDK sends
// it as x-api-key): Keygate swaps it for the tenant's real Anthropic key, and streams the
// answer back. This program never holds the Anthropic key.
//
// Without ANTHROPIC_API_KEY it talks to the dev stack's local stand-in (integration
// demo-anthropic, whose key `npm run dev` stored for tenant acme); with it, to the real API
// (integration anthropic), after storing your key for acme.
import Anthropic from '@anthropic-ai/sdk';

const KEYGATE_URL = process.env.KEYGATE_URL ?? 'http://127.0.0.1:8080';
const ADMIN_TOKEN = process.env.KEYGATE_ADMIN_TOKEN;
const REAL_KEY = process.env.ANTHROPIC_API_KEY;
const TENANT = 'acme';
const INTEGRATION = REAL_KEY ? 'anthropic' : 'demo-anthropic';
const MODEL = process.env.ANTHROPIC_MODEL ?? 'claude-haiku-4-5';

if (!ADMIN_TOKEN) {
  console.error('Set KEYGATE_URL and KEYGATE_ADMIN_TOKEN to what `npm run dev` printed.');
  process.exit(2);
}

/** A call to Keygate's admin API (the operator's side; an agent never has this token). */
async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${KEYGATE_URL}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

// 1. The operator, once: the tenant's Anthropic key into Keygate (Vault), and a Keygate key
//    for the agent that may reach only this integration of this tenant.
if (REAL_KEY) await admin('PUT', `/v1/tenants/${TENANT}/credentials/anthropic`, { apiKey: REAL_KEY });
const { id, key } = await admin('POST', '/v1/keys', {
  name: 'anthropic-sdk example',
  tenants: [TENANT],
  integrations: [INTEGRATION],
});

try {
  // 2. The agent: an ordinary Anthropic client, with Keygate's URL and the Keygate key.
  const anthropic = new Anthropic({ baseURL: `${KEYGATE_URL}/proxy/${TENANT}/${INTEGRATION}`, apiKey: key });
  const messages = [{ role: 'user' as const, content: 'Say hello through Keygate.' }];

  const message = await anthropic.messages.create({ model: MODEL, max_tokens: 256, messages });
  const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
  console.log(`message: ${text}`);

  // Streaming works the same: Keygate passes the server-sent events through as they come.
  const stream = anthropic.messages.stream({ model: MODEL, max_tokens: 256, messages });
  console.log(`stream: ${await stream.finalText()}`);
} finally {
  // The example's key is revoked; a real agent keeps its key.
  await admin('DELETE', `/v1/keys/${id}`);
}
