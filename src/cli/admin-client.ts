import { CliError } from './output.ts';

/** Where Keygate is and how to authenticate to its admin API; from --url/KEYGATE_URL and KEYGATE_ADMIN_TOKEN. */
export interface Target {
  url: string;
  /** Never from argv (visible in `ps`): KEYGATE_ADMIN_TOKEN only. */
  token: string | undefined;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** What Keygate answered with an error: the contract's `{"error":{"code","message"}}`. */
interface ErrorBody {
  error?: { code?: string; message?: string };
}

// What to do next, by error code, in place of the advice in Keygate's own message (the part
// after its semicolon); TENANT and INTEGRATION are filled in from the request's path.
const HINTS: Readonly<Record<string, string>> = {
  credential_not_found:
    'store one with `keygate credentials put TENANT INTEGRATION`, or connect one with `keygate connect TENANT INTEGRATION`',
  unknown_integration: 'see the configured ones with `keygate integrations`',
  key_not_found: 'see the keys with `keygate keys list`',
  connect_unsupported: 'store an API key instead with `keygate credentials put TENANT INTEGRATION`',
  vault_unavailable: 'check Vault with `keygate status`, then retry',
  credential_refresh_failed: 'the tenant must connect again with `keygate connect TENANT INTEGRATION`',
};

// Errors that mean the command as given cannot work (exit 2), as opposed to a failure (exit 1).
const USAGE_CODES = new Set(['validation_failed', 'invalid_name', 'bad_request']);

/** A small client of Keygate's admin API; every failure becomes a CliError that says what to do. */
export class AdminClient {
  readonly #target: Target;

  constructor(target: Target) {
    this.#target = target;
  }

  get url(): string {
    return this.#target.url;
  }

  /** Whether admin calls can be made (KEYGATE_ADMIN_TOKEN is set). */
  get hasToken(): boolean {
    return Boolean(this.#target.token);
  }

  /** An admin call (`/v1/...`); the admin token is required. */
  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body, true);
    return (await this.#json(res, method, path)) as T;
  }

  /** A call that answers 404 `not_found` (a route this Keygate lacks) with undefined instead of failing. */
  async optional<T = Record<string, unknown>>(method: string, path: string): Promise<T | undefined> {
    const res = await this.fetch(method, path, undefined, true);
    if (res.status === 404 && res.headers.get('x-keygate-error') === 'not_found') {
      await res.body?.cancel();
      return undefined;
    }
    return (await this.#json(res, method, path)) as T;
  }

  /** A plain request; with `admin`, carries the admin token. Network failures become CliErrors. */
  async fetch(
    method: string,
    path: string,
    body?: unknown,
    admin = true,
    init: RequestInit = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
    if (admin) headers['authorization'] = `Bearer ${this.#token()}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const url = new URL(path, this.#target.url).href;
    try {
      return await fetch(url, {
        ...init,
        method,
        headers,
        redirect: 'manual',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw unreachable(this.#target.url, err);
    }
  }

  #token(): string {
    const { token } = this.#target;
    if (!token) {
      throw new CliError(
        'no admin token: set KEYGATE_ADMIN_TOKEN to the token Keygate was started with (it is never read from the command line, where `ps` would show it)',
        2,
      );
    }
    return token;
  }

  async #json(res: Response, method: string, path: string): Promise<unknown> {
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new CliError(
        `${method} ${path} answered ${res.status} with something that is not JSON: is ${this.#target.url} a Keygate?`,
        1,
      );
    }
    if (res.ok) return body;
    throw httpError(res, body as ErrorBody, method, path, this.#target.url);
  }
}

/** The CliError for an error answer of Keygate: its code, what is wrong, and what to do with this CLI. */
export function httpError(
  res: Response,
  body: ErrorBody,
  method: string,
  path: string,
  url: string,
): CliError {
  const code = body.error?.code ?? res.headers.get('x-keygate-error') ?? `http_${res.status}`;
  const message = body.error?.message ?? `${method} ${path} answered ${res.status}`;
  if (code === 'not_found') {
    return new CliError(
      `${method} ${path}: this Keygate has no such route; it may be older than this CLI (check --url ${url})`,
      1,
      code,
    );
  }
  // The admin token is missing or wrong (not: Keygate has none configured, which it says itself).
  if (code === 'unauthorized' && !/disabled/.test(message)) {
    const problem = firstClause(message, /: |; /);
    return new CliError(
      `${code}: ${problem}; set KEYGATE_ADMIN_TOKEN to the admin token of the Keygate at ${url}`,
      1,
      code,
    );
  }
  const hint = HINTS[code];
  return new CliError(
    `${code}: ${hint ? `${firstClause(message, /; /)}; ${fillIn(hint, path)}` : message}`,
    USAGE_CODES.has(code) ? 2 : 1,
    code,
  );
}

/** What is wrong, without the advice that follows it and without the full stop. */
function firstClause(message: string, separator: RegExp): string {
  return (message.split(separator)[0] ?? message).replace(/[.\s]+$/, '');
}

/** TENANT and INTEGRATION of a hint, from a path such as /v1/tenants/acme/credentials/github. */
function fillIn(hint: string, path: string): string {
  const [, tenant, integration] =
    /^\/v1\/tenants\/([^/]+)\/(?:credentials|connect)\/([^/?]+)/.exec(path) ?? [];
  return tenant && integration
    ? hint.replaceAll('TENANT', tenant).replaceAll('INTEGRATION', integration)
    : hint;
}

function unreachable(url: string, err: unknown): CliError {
  let cause: unknown = err;
  let code: string | undefined;
  for (let depth = 0; cause && depth < 4 && !code; depth += 1) {
    const c = (cause as { code?: unknown }).code;
    if (typeof c === 'string') code = c;
    cause = (cause as { cause?: unknown }).cause;
  }
  const why =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'unknown host'
        : (code ?? 'network error');
  return new CliError(
    `cannot reach Keygate at ${url} (${why}): is it running? Start it with \`npm run dev\` or \`keygate serve --config FILE\`, or point --url / KEYGATE_URL at it`,
    1,
    'unreachable',
  );
}
