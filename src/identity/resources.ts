/**
 * Keygate as an OAuth protected resource (RFC 9728): each proxied base URL
 * `<public URL>/proxy/{tenant}/{integration}` is one resource, with its metadata at
 * `<public URL>/.well-known/oauth-protected-resource/proxy/{tenant}/{integration}`.
 * The public URL is configured (`callers.publicUrl`, else `reauth.publicUrl`) or the
 * address Keygate listens on, never a request's Host header: a token's audience is
 * checked against it, and a Host an attacker picks must not make a token for another
 * resource acceptable.
 */
export class ProtectedResources {
  #base: string | undefined;

  constructor(publicUrl: string | undefined) {
    this.#base = publicUrl?.replace(/\/+$/, '');
  }

  /** Keygate now listens at `url`: the public URL when none was configured. */
  listening(url: string): void {
    this.#base ??= url.replace(/\/+$/, '');
  }

  get base(): string {
    if (this.#base === undefined) throw new Error('ProtectedResources: the public URL is not known yet');
    return this.#base;
  }

  resourceOf(tenant: string, integration: string): string {
    return `${this.base}/proxy/${tenant}/${integration}`;
  }

  metadataUrlOf(tenant: string, integration: string): string {
    return `${this.base}/.well-known/oauth-protected-resource/proxy/${tenant}/${integration}`;
  }
}

/** The scope one integration needs; `keygate:proxy` (every integration of the tenant) implies it. */
export const scopeFor = (integration: string): string => `keygate:proxy:${integration}`;
export const ALL_INTEGRATIONS_SCOPE = 'keygate:proxy';

// RFC 6750 §3: quoted-string values; none of ours holds a quote or backslash, but be sure.
const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

/** An RFC 6750 §3 challenge: `Bearer` with the given parameters, in order, undefined ones left out. */
export function bearerChallenge(params: Record<string, string | undefined>): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${quoted(value)}`);
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`;
}
