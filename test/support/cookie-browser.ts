/**
 * A browser played with fetch: one request at a time, redirects not followed, and a cookie
 * jar that behaves like a browser's in what Keygate relies on: cookies belong to a host name
 * (not a port), are sent only under their Path, and go away at Max-Age=0. Every page it saw
 * is kept, for canary hunting.
 */
export interface Visit {
  url: string;
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

interface Cookie {
  host: string;
  name: string;
  value: string;
  path: string;
  expiresAt: number;
}

export class CookieBrowser {
  readonly seen: Visit[] = [];
  #jar: Cookie[] = [];

  async visit(url: string, init: RequestInit = {}): Promise<Visit> {
    const target = new URL(url);
    const cookie = this.#cookiesFor(target);
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.#store(target, res.headers.getSetCookie());
    const visit = {
      url,
      status: res.status,
      headers: res.headers,
      text: await res.text(),
      location: res.headers.get('location') && new URL(res.headers.get('location') as string, target).href,
    };
    this.seen.push(visit);
    return visit;
  }

  /** Follows redirects (as GETs) from `url` until an answer is not one, or `stop` says so. */
  async follow(url: string, stop: (next: URL) => boolean = () => false, limit = 10): Promise<Visit> {
    let visit = await this.visit(url);
    for (let i = 0; i < limit && visit.location && !stop(new URL(visit.location)); i++) {
      visit = await this.visit(visit.location);
    }
    return visit;
  }

  /** The names of the cookies this browser holds for a host, e.g. to see one was cleared. */
  cookieNames(host: string): string[] {
    this.#expire();
    return this.#jar.filter((c) => c.host === host).map((c) => c.name);
  }

  /** The Set-Cookie attributes the page gave, by cookie name (the raw lines a test asserts on). */
  static setCookies(visit: Visit): string[] {
    return visit.headers.getSetCookie();
  }

  #cookiesFor(url: URL): string {
    this.#expire();
    return this.#jar
      .filter(
        (c) =>
          c.host === url.hostname &&
          (url.pathname === c.path ||
            url.pathname.startsWith(`${c.path.replace(/\/$/, '')}/`) ||
            c.path === '/'),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  #store(url: URL, lines: string[]) {
    for (const line of lines) {
      const [pair = '', ...attributes] = line.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie: Cookie = {
        host: url.hostname,
        name: pair.slice(0, eq),
        value: pair.slice(eq + 1),
        path: '/',
        expiresAt: Number.POSITIVE_INFINITY,
      };
      for (const attribute of attributes) {
        const [key = '', value = ''] = attribute.split('=');
        if (/^path$/i.test(key)) cookie.path = value || '/';
        if (/^max-age$/i.test(key)) cookie.expiresAt = Date.now() + Number(value) * 1000;
        if (/^expires$/i.test(key) && cookie.expiresAt === Number.POSITIVE_INFINITY) {
          cookie.expiresAt = Date.parse(value);
        }
      }
      this.#jar = this.#jar.filter(
        (c) => !(c.host === cookie.host && c.name === cookie.name && c.path === cookie.path),
      );
      if (cookie.expiresAt > Date.now()) this.#jar.push(cookie);
    }
  }

  #expire() {
    const now = Date.now();
    this.#jar = this.#jar.filter((c) => c.expiresAt > now);
  }
}
