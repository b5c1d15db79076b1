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

export interface AdminAnswer {
  status: number;
  code: string | null;
  body: any;
}

/**
 * An admin API caller for tests that keeps every answer's headers and body in `answers`,
 * so the test can prove afterwards that no canary secret ever came back.
 */
export function recordingAdminCall(baseUrl: () => string, adminToken: string, answers: string[]) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    token: string | null = adminToken,
  ): Promise<AdminAnswer> => {
    const res = await jsonFetch(`${baseUrl()}/v1${path}`, method, body, token);
    const text = await res.text();
    answers.push(JSON.stringify([...res.headers]), text);
    return {
      status: res.status,
      code: res.headers.get('x-keygate-error'),
      body: text ? JSON.parse(text) : undefined,
    };
  };
}
