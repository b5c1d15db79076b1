import type { Config } from '../config/schema.ts';
import type { LinkTarget } from './links.ts';

/**
 * How whoever opens a connect link proves they may use it:
 * - `sign-in`: `reauth.identity.oidc` and a link made for a user (a subject): Keygate signs
 *   the browser in with the issuer and goes on only if the ID token's `sub` is that user;
 * - `assertion`: `reauth.identity.{url,secret}`: the embedding application vouches;
 * - `code`: the confirmation code shown to the caller. Also a link made without a user under
 *   `oidc`: there is no `sub` to compare, and any account at the issuer passing would only look
 *   like a check.
 */
export type LinkBinding = 'sign-in' | 'assertion' | 'code';

export function linkBinding(config: Readonly<Config>, link: Pick<LinkTarget, 'subject'>): LinkBinding {
  const identity = config.reauth.identity;
  if (identity?.oidc) return link.subject === undefined ? 'code' : 'sign-in';
  return identity?.url !== undefined && identity.secret !== undefined ? 'assertion' : 'code';
}

/** The application's endpoint and secret when it vouches for its users (assertion mode), else undefined. */
export function vouching(config: Readonly<Config>): { url: string; secret: string } | undefined {
  const identity = config.reauth.identity;
  if (identity?.url === undefined || identity.secret === undefined) return undefined;
  return { url: identity.url, secret: identity.secret };
}
