import { isKeygateError } from '../../src/errors.ts';

/** The code of the KeygateError a promise rejects with; fails if it resolves or throws anything else. */
export async function errorCodeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isKeygateError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a KeygateError');
}

/**
 * fetch with a JSON body and, unless `token` is null, `Authorization: Bearer <token>`.
 * Redirects are not followed, so a test sees them.
 */
export function jsonFetch(
  url: string,
  method: string,
  body?: unknown,
  token: string | null = null,
): Promise<Response> {
  return fetch(url, {
    method,
    redirect: 'manual',
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
