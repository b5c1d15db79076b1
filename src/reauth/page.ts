import { escape, layout } from '../http/page.ts';
import { TOKEN_FIELD } from './forgery.ts';
import type { ConnectLink } from './links.ts';

export function details(link: ConnectLink, intro: string, error: string | undefined): string {
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
