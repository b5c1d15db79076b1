import { NAME_PATTERN } from '../config/schema.ts';
import { KeygateError } from '../errors.ts';
import type { CredentialRef } from './ref.ts';

const NAME = new RegExp(NAME_PATTERN);

export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME.test(value);
}

/** Throws `invalid_name` before a bad tenant, integration or account can come near a Vault path. */
export function assertNames(tenant: unknown, integration?: unknown, account?: unknown): void {
  if (!isValidName(tenant)) throw new KeygateError('invalid_name', { details: ['tenant'] });
  if (integration !== undefined && !isValidName(integration)) {
    throw new KeygateError('invalid_name', { details: ['integration'] });
  }
  if (account !== undefined && !isValidName(account)) {
    throw new KeygateError('invalid_name', { details: ['account'] });
  }
}

/** assertNames for the three names of a credential. */
export function assertRef(ref: CredentialRef): void {
  assertNames(ref.tenant, ref.integration, ref.account);
}
