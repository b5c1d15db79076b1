// The official OpenAI SDK pointed at Keygate. The SDK's base URL is Keygate's proxy path for
// the tenant's OpenAI integration and its "API key" is a Keygate key: Keygate takes the
// Keygate key off, puts the tenant's real OpenAI key on, and streams the answer back. This
// program never holds the OpenAI key.
//
// Without OPENAI_API_KEY it talks to the dev stack's local stand-in (integration
// demo-openai, whose key `npm run dev` stored for tenant acme); with it, to the real API
// (integration openai), after storing your key for acme.
import OpenAI from 'openai';

const KEYGATE_URL = process.env.KEYGATE_URL ?? 'http://127.0.0.1:8080';
const ADMIN_TOKEN = process.env.KEYGATE_ADMIN_TOKEN;
const REAL_KEY = process.env.OPENAI_API_KEY;
const TENANT = 'acme';
const INTEGRATION = REAL_KEY ? 'openai' : 'demo-openai';
const MODEL = process.env.OPENAI_MODEL ?? 'gpt-4o-mini';

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

// 1. The operator, once: the tenant's OpenAI key into Keygate (Vault), and a Keygate key for
//    the agent that may reach only this integration of this tenant.
if (REAL_KEY) await admin('PUT', `/v1/tenants/${TENANT}/credentials/openai`, { apiKey: REAL_KEY });
const { id, key } = await admin('POST', '/v1/keys', {
  name: 'openai-sdk example',
  tenants: [TENANT],
  integrations: [INTEGRATION],
});

try {
  // 2. The agent: an ordinary OpenAI client, with Keygate's URL and the Keygate key.
  const openai = new OpenAI({ baseURL: `${KEYGATE_URL}/proxy/${TENANT}/${INTEGRATION}/v1`, apiKey: key });
  const messages = [{ role: 'user' as const, content: 'Say hello through Keygate.' }];

  const completion = await openai.chat.completions.create({ model: MODEL, messages });
  console.log(`chat: ${completion.choices[0]?.message.content}`);

  // Streaming works the same: Keygate passes the server-sent events through as they come.
  const stream = await openai.chat.completions.create({ model: MODEL, messages, stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  console.log(`stream: ${text}`);
} finally {
  // The example's key is revoked; a real agent keeps its key.
  await admin('DELETE', `/v1/keys/${id}`);
}
