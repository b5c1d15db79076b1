/** What `npm run dev` prints once everything is up: where things are and what to try. */
export function banner(d: {
  base: string;
  bao: { address: string; token: string; persisted: string | undefined };
  adminToken: string;
  echoUrl: string;
  oauthUrl: string;
  key: string;
  /** The demo token issuer and an access token it signed for acme. */
  issuer?: { url: string; token: string };
  configFile: string;
}): string {
  const cli = `KEYGATE_URL=${d.base} KEYGATE_ADMIN_TOKEN=${d.adminToken} npx keygate`;
  return `
  Keygate (dev)            ${d.base}     config: ${d.configFile}
  OpenBao                  ${d.bao.address}   ${d.bao.persisted ? `persisted in ${d.bao.persisted}` : 'in memory (--persist keeps it)'}   root token: ${d.bao.token}
  Admin token              ${d.adminToken}
  Demo upstream "echo"     ${d.echoUrl}  (tenant acme has an API key for it)
  Demo OAuth "demo-oauth"  ${d.oauthUrl}  (consents at once; tokens live 6 min)
  Keygate key for acme     ${d.key}
${
  d.issuer
    ? `  Demo token issuer        ${d.issuer.url}  (callers.issuers; its tokens for acme live 12 h)
  Access token for acme    ${d.issuer.token}
`
    : ''
}
  Try:
    curl ${d.base}/proxy/acme/echo/hello -H 'authorization: Bearer ${d.key}'
${
  d.issuer
    ? `    curl ${d.base}/proxy/acme/echo/hello -H 'authorization: Bearer ${d.issuer.token}'
`
    : ''
}    export KEYGATE_URL=${d.base} KEYGATE_ADMIN_TOKEN=${d.adminToken}
    npx keygate status
    npx keygate events                              # in a second terminal: the live stream
    npx keygate connect acme demo-oauth             # open the URL it prints: connected
    curl ${d.base}/proxy/acme/demo-oauth/me -H 'authorization: Bearer ${d.key}'
    npx keygate credentials refresh acme demo-oauth # a refresh-success event
    printf %s sk-ant-your-key | npx keygate credentials put acme anthropic
    curl ${d.base}/proxy/acme/anthropic/v1/models -H 'x-api-key: ${d.key}'

  (one line: ${cli} status)
  Ctrl-C stops Keygate, OpenBao and the demo servers.
`;
}
