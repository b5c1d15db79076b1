import { createHash } from 'node:crypto';
import { DEFAULT_ACCOUNT } from '../credentials/ref.ts';
import { isValidName } from '../credentials/names.ts';
import { KeygateError } from '../errors.ts';
import type { Caller } from './caller.ts';

/** The request header that picks one of the tenant's accounts; Keygate's alone, never sent upstream. */
export const ACCOUNT_HEADER = 'keygate-account';

// What a claim value must never be taken as verbatim: the tenant's shared account, and the
// shape of a hashed one (which would be someone else's).
const HASHED = /^u-[0-9a-f]{32}$/;

/**
 * The account a claim value names: the value itself when it is a valid name
 * (`^[a-z0-9][a-z0-9_-]{0,62}$`), else `u-` and the first 32 hex digits of its SHA-256
 * (an e-mail address, a UUID with capitals, a SPIFFE ID), so any claim maps to one
 * stable account and no raw personal data ends up in a Vault path. `default` (the
 * tenant's shared account: a Kubernetes pod running as the namespace's `default` service
 * account, a user who picked the name) and a value shaped like a hashed account are
 * hashed too, so no claim lands on an account that is not its own.
 */
export function accountName(value: string): string {
  if (isValidName(value) && value !== DEFAULT_ACCOUNT && !HASHED.test(value)) return value;
  return `u-${createHash('sha256').update(value).digest('hex').slice(0, 32)}`;
}

/**
 * The one account decision, for HTTP and WebSocket alike: the account this caller's
 * request uses, given its `keygate-account` header. Without the header, the account the
 * caller is pinned to, else `default`. A malformed name is 400 `invalid_name`; an account
 * other than the pinned one, or outside the caller's `accounts`, is 403
 * `account_not_allowed` (before any credential is read).
 */
export function accountFor(caller: Caller, header: string | string[] | undefined): string {
  let account: string;
  if (header === undefined) account = caller.account ?? DEFAULT_ACCOUNT;
  // Node joins repeated headers it does not know with ", ", which is never a valid name.
  else if (!isValidName(header)) throw new KeygateError('invalid_name', { details: ['account'] });
  else account = header;
  const pinned = caller.account !== undefined && account !== caller.account;
  if (pinned || (caller.accounts !== undefined && !caller.accounts.includes(account))) {
    throw new KeygateError('account_not_allowed');
  }
  return account;
}
