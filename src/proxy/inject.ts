import type { IntegrationConfig } from '../config/schema.ts';
import type { Credential } from '../credentials/types.ts';
import { KeygateError } from '../errors.ts';

/** How one integration takes its credential, compiled once at start. */
export interface Injector {
  /** The header Keygate sets (lower case), if it injects a header; a caller's copy is removed. */
  readonly header: string | undefined;
  /** The query parameter Keygate sets, if any; a caller's copy is removed. */
  readonly query: string | undefined;
  /** The header value or query value for `token`. */
  value(token: string): string;
}

const fill = (template: string, token: string) => template.split('{token}').join(token);

/** Compiles `integrations.NAME.inject`; the default is `authorization: Bearer {token}`. */
export function compileInjector(integration: IntegrationConfig): Injector {
  const inject = integration.inject ?? {};
  if (inject.query !== undefined) {
    return { header: undefined, query: inject.query, value: (token) => token };
  }
  if (inject.basic !== undefined) {
    const username = inject.basic.username ?? '{token}';
    const password = inject.basic.password ?? '';
    return {
      header: 'authorization',
      query: undefined,
      value: (token) =>
        `Basic ${Buffer.from(`${fill(username, token)}:${fill(password, token)}`).toString('base64')}`,
    };
  }
  const header = (inject.header ?? 'authorization').toLowerCase();
  const format = inject.format ?? (header === 'authorization' ? 'Bearer {token}' : '{token}');
  return { header, query: undefined, value: (token) => fill(format, token) };
}

/** The secret to inject: the access token of an OAuth credential, the key of an API-key one. */
export function tokenOf(credential: Credential): string {
  const token = credential.authType === 'api_key' ? credential.secret.apiKey : credential.secret.accessToken;
  if (!token) throw new KeygateError('credential_not_found', { message: 'The stored credential is empty.' });
  return token;
}
