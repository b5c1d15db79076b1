import { TOKEN_FIELD } from './forgery.ts';
import type { ConnectLink } from './links.ts';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);

/** Sent with every page: nothing loads from elsewhere, no framing (clickjacking), no referrer, no cache. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** A whole page: nothing loaded from elsewhere, `title` and `body` already escaped where needed. */
export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escape(title)} · Keygate</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}
dt{font-weight:600}dd{margin:0 0 .5rem}input{font:inherit;padding:.3rem;letter-spacing:.1em}
button{font:inherit;padding:.4rem 1rem}.error{color:#a00}</style></head>
<body><h1>${escape(title)}</h1>${body}</body></html>`;
}

function details(link: ConnectLink, intro: string, error: string | undefined): string {
  const account = link.account === 'default' ? '' : `<dt>Account</dt><dd>${escape(link.account)}</dd>`;
  return `<p>An application acting for this tenant asked Keygate to connect an integration. ${intro}</p>
<dl><dt>Integration</dt><dd>${escape(link.integration)}</dd><dt>Tenant</dt><dd>${escape(link.tenant)}</dd>${account}
<dt>Link expires</dt><dd>${escape(link.expiresAt)}</dd></dl>
${error ? `<p class="error">${escape(error)}</p>` : ''}`;
}

/** The page `GET /connect/{id}` shows: what will be connected for whom, and a code to confirm (`token`: forgery.ts). */
export function confirmPage(link: ConnectLink, token: string, error?: string): string {
  return layout(
    `Connect ${link.integration}`,
    `${details(link, 'Continue only if you started this and the code below is the one your application shows you.', error)}
<form method="post" action="/connect/${encodeURIComponent(link.id)}">
<input type="hidden" name="${TOKEN_FIELD}" value="${escape(token)}">
<label>Confirmation code <input name="code" autocomplete="off" required maxlength="16" pattern="[A-Za-z0-9 -]{8,16}"></label>
<p><button type="submit">Continue to ${escape(link.integration)}</button></p></form>`,
  );
}

/** The same page when the embedding application's sign-in binds the link: continue there first. */
export function identityPage(link: ConnectLink, identityUrl: string, returnTo: string): string {
  const hidden = (name: string, value: string) =>
    `<input type="hidden" name="${name}" value="${escape(value)}">`;
  return layout(
    `Connect ${link.integration}`,
    `${details(link, 'Continue only if you started this: your application will check that you are signed in as a user of this tenant.', undefined)}
<form method="get" action="${escape(identityUrl)}">${hidden('link', link.id)}${hidden('tenant', link.tenant)}${hidden('return_to', returnTo)}
<p><button type="submit">Sign in and continue to ${escape(link.integration)}</button></p></form>`,
  );
}

/** A link that cannot be used (unknown, spent or expired: one page for all three). */
export function invalidPage(message: string): string {
  return layout(
    'This connect link cannot be used',
    `<p>${escape(message)}</p><p>Go back to your application and retry what you were doing: it gets a new link.</p>`,
  );
}

/** A confirmation refused because it did not come from the page in this browser; the link is left as it was. */
export function refusedPage(message: string): string {
  return layout(
    'This confirmation was refused',
    `<p class="error">${escape(message)}</p><p>If you opened the link yourself, open it again in this browser (with cookies allowed for this site) and continue from its page.</p>`,
  );
}
