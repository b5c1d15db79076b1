import { dueTime } from '../../src/credentials/due-time.ts';

/**
 * After how many seconds Keygate renews a demo token it was just given, by the scheduler's
 * own rule (refresh.bufferSeconds before expiry; expiry is the lifetime less the clock skew),
 * so what the banner says is what the event stream will show.
 */
export function renewalAfterSeconds(
  lifetimeSeconds: number,
  refresh: { bufferSeconds: number; clockSkewSeconds: number },
): number {
  const now = Date.now();
  const expiresAt = new Date(now + (lifetimeSeconds - refresh.clockSkewSeconds) * 1000).toISOString();
  const due = dueTime(
    { status: 'active', expiresAt, lastRefreshedAt: new Date(now).toISOString() },
    refresh.bufferSeconds * 1000,
    now,
  );
  return Math.round(((due ?? now) - now) / 1000);
}

const minutes = (seconds: number) =>
  seconds % 60 === 0
    ? `${seconds / 60} min`
    : seconds >= 120
      ? `about ${Math.round(seconds / 60)} min`
      : `${seconds} s`;

/** What `npm run dev` prints once everything is up: where things are and what to try. */
export function banner(d: {
  base: string;
  bao: { address: string; token: string; persisted: string | undefined };
  adminToken: string;
  echoUrl: string;
  oauthUrl: string;
  openaiUrl: string;
  anthropicUrl: string;
  tokenSeconds: number;
  renewalSeconds: number;
  key: string;
  configFile: string;
}): string {
  const cli = `KEYGATE_URL=${d.base} KEYGATE_ADMIN_TOKEN=${d.adminToken} npx keygate`;
  return `
  Keygate (dev)            ${d.base}     config: ${d.configFile}
  Console                  ${d.base}/console   (sign in with the admin token)
  OpenBao                  ${d.bao.address}   ${d.bao.persisted ? `persisted in ${d.bao.persisted}` : 'in memory (--persist keeps it)'}   root token: ${d.bao.token}
  Admin token              ${d.adminToken}
  Demo upstream "echo"     ${d.echoUrl}  (tenant acme has an API key for it)
  Demo OAuth "demo-oauth"  ${d.oauthUrl}  (consents at once; tokens live ${minutes(d.tokenSeconds)}, renewed ${minutes(d.renewalSeconds)} after they are issued)
  Stand-ins (offline)      "demo-openai" ${d.openaiUrl}   "demo-anthropic" ${d.anthropicUrl}   (acme has keys for both)
  Keygate key for acme     ${d.key}

  Try:
    curl ${d.base}/proxy/acme/echo/hello -H 'authorization: Bearer ${d.key}'
    export KEYGATE_URL=${d.base} KEYGATE_ADMIN_TOKEN=${d.adminToken}
    npx keygate status
    npx keygate events                              # in a second terminal: the live stream
    npx keygate connect acme demo-oauth             # open the URL it prints: connected
    curl ${d.base}/proxy/acme/demo-oauth/me -H 'authorization: Bearer ${d.key}'
    npx keygate credentials refresh acme demo-oauth # a refresh-success event
    curl ${d.base}/proxy/acme/demo-anthropic/v1/models -H 'x-api-key: ${d.key}'
    npm run example openai-sdk                      # examples/README.md lists the others

  (one line: ${cli} status)
  Ctrl-C stops Keygate, OpenBao and the demo servers.
`;
}
