// Receives Keygate's webhooks and verifies each signature (receiver.ts). By itself it makes
// two events happen (a key created and revoked, through the admin API), waits until both
// arrive verified, shows that a forged delivery is refused, and exits 0. With --serve it
// keeps printing every event until Ctrl-C.
//
// `npm run dev` sends every event to a relay that passes it on here (port
// KEYGATE_DEV_WEBHOOK_PORT, 8091), signed with the demo secret in examples/keygate.dev.yaml.
// Against your own Keygate, list this receiver under `webhooks:` in its configuration and set
// KEYGATE_WEBHOOK_SECRET to the secret there.
import { startReceiver, type KeygateEvent } from './receiver.ts';

const KEYGATE_URL = process.env.KEYGATE_URL ?? 'http://127.0.0.1:8080';
const ADMIN_TOKEN = process.env.KEYGATE_ADMIN_TOKEN;
const PORT = Number(process.env.KEYGATE_DEV_WEBHOOK_PORT ?? 8091);
const PATH = '/webhooks/keygate';
// The demo secret of examples/keygate.dev.yaml: it is in the repository, so it protects nothing.
const SECRET = process.env.KEYGATE_WEBHOOK_SECRET ?? 'whsec_a2V5Z2F0ZSBkZXYgd2ViaG9va3MsIG5vdCBzZWNyZXQ=';

if (!ADMIN_TOKEN) {
  console.error('Set KEYGATE_URL and KEYGATE_ADMIN_TOKEN to what `npm run dev` printed.');
  process.exit(2);
}

const received: KeygateEvent[] = [];
let rejected = 0;
const server = await startReceiver({
  port: PORT,
  path: PATH,
  secret: SECRET,
  onEvent(event, id) {
    received.push(event);
    const about = event.data.tenant ? ` ${event.data.tenant}/${event.data.integration}` : '';
    console.log(`verified ${id}: ${event.type}${about}`);
  },
  onRejected(why) {
    rejected += 1;
    console.log(`refused a delivery: ${why}`);
  },
});
console.log(`listening on http://127.0.0.1:${PORT}${PATH}`);

if (process.argv.includes('--serve')) {
  process.once('SIGINT', () => server.close());
} else {
  // Two events of our own: a key created, then revoked.
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${KEYGATE_URL}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  const created = await admin('POST', '/v1/keys', { name: 'webhook-receiver example', tenants: ['acme'] });
  if (created.status !== 201) throw new Error(`POST /v1/keys answered ${created.status}`);
  const { id } = (await created.json()) as { id: string };
  await admin('DELETE', `/v1/keys/${id}`);

  const ours = (type: string) => received.some((e) => e.type === type && e.data['keyId'] === id);
  const deadline = Date.now() + 30_000;
  while (!(ours('key-created') && ours('key-revoked'))) {
    if (Date.now() > deadline)
      throw new Error('the key-created and key-revoked webhooks did not arrive in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }

  // A delivery signed with another secret is refused, and never handled.
  const forged = await fetch(`http://127.0.0.1:${PORT}${PATH}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': 'msg_forged',
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': 'v1,bm90IHRoZSByaWdodCBzaWduYXR1cmUgYXQgYWxsIQ==',
    },
    body: JSON.stringify({ type: 'key-revoked', timestamp: new Date().toISOString(), data: {} }),
  });
  console.log(`forged delivery answered ${forged.status}`);
  server.close();
  if (forged.status !== 401 || rejected !== 1) process.exit(1);
  console.log(`done: key-created and key-revoked for key ${id} arrived signed and verified`);
}
