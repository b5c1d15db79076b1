import type { IncomingHttpHeaders } from 'node:http';
import { DEFAULT_ACCOUNT } from '../credentials/accounts.ts';
import { isValidName } from '../credentials/names.ts';
import { KeygateError } from '../errors.ts';

/** The request header that picks one of the tenant's accounts; Keygate's alone, never sent upstream. */
export const ACCOUNT_HEADER = 'keygate-account';

/** The account a proxied request asks for: `default` without the header, 400 `invalid_name` for a bad one. */
export function accountOf(headers: IncomingHttpHeaders): string {
  const value = headers[ACCOUNT_HEADER];
  if (value === undefined) return DEFAULT_ACCOUNT;
  // Node joins repeated headers it does not know with ", ", which is never a valid name.
  if (!isValidName(value)) throw new KeygateError('invalid_name', { details: ['account'] });
  return value;
}
