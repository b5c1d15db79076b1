// The admin API, called with the admin token. The token lives in sessionStorage only
// (gone when the tab closes; never in a URL or a cookie) and goes out in the
// Authorization header, never anywhere else.

const TOKEN_KEY = 'keygate.adminToken';

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  /** @type {Set<() => void>} */
  #onUnauthorized = new Set();

  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  /** @param {string} token */
  signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  }

  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
  }

  /** @param {() => void} listener called when Keygate refuses the token */
  onUnauthorized(listener) {
    this.#onUnauthorized.add(listener);
  }

  unauthorized() {
    this.signOut();
    for (const listener of this.#onUnauthorized) listener();
  }

  /**
   * One admin call; answers the parsed JSON (undefined for 204), throws ApiError otherwise.
   * @param {string} method
   * @param {string} path under the origin, e.g. /v1/keys
   * @param {unknown} [body]
   * @returns {Promise<any>}
   */
  async call(method, path, body) {
    const token = this.token;
    if (!token) throw new ApiError(401, 'unauthorized', 'Not signed in.');
    /** @type {Record<string, string>} */
    const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, {
      method,
      headers,
      credentials: 'omit',
      cache: 'no-store',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status === 204) return undefined;
    const text = await res.text();
    /** @type {any} */
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return json;
    const error = json?.error ?? {};
    const code = typeof error.code === 'string' ? error.code : `http_${res.status}`;
    const message = typeof error.message === 'string' ? error.message : `Keygate answered ${res.status}.`;
    if (res.status === 401) this.unauthorized();
    throw new ApiError(res.status, code, message);
  }

  /**
   * @param {string} path
   * @param {Record<string, string | undefined>} [query]
   */
  get(path, query = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
    const qs = params.toString();
    return this.call('GET', qs ? `${path}?${qs}` : path);
  }
}

/** @param {string} name a tenant, integration or account name (already validated by Keygate) */
export const seg = (name) => encodeURIComponent(name);
