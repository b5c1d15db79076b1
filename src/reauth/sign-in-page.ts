import { escape, layout } from '../http/page.ts';
import { TOKEN_FIELD } from './forgery.ts';
import type { ConnectLink } from './links.ts';
import { details } from './page.ts';

/** `GET /connect/{id}` for a link made for a user, with `reauth.identity.oidc`: sign in first. */
export function signInPage(link: ConnectLink, issuerOrigin: string, token: string): string {
  return layout(
    `Connect ${link.integration}`,
    `${details(link, `Continue only if you started this: you will sign in at ${escape(issuerOrigin)}, and only the user this link was made for can go on.`, undefined)}
<form method="post" action="/connect/${encodeURIComponent(link.id)}/sign-in">
<input type="hidden" name="${TOKEN_FIELD}" value="${escape(token)}">
<p><button type="submit">Sign in and continue to ${escape(link.integration)}</button></p></form>`,
  );
}

/** A sign-in that did not let the browser go on; `again` when opening the link again may help. */
export function signInRefusedPage(message: string, connectUrl: string | undefined): string {
  const again = connectUrl
    ? `<p>The link has not been used. <a href="${escape(connectUrl)}">Open it again</a> and sign in as the user it was made for.</p>`
    : '<p>Go back to your application and retry what you were doing: it gets a new link.</p>';
  return layout('Sign-in did not go through', `<p>${escape(message)}</p>${again}`);
}
