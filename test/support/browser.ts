/** One page a test browser saw: status, headers and text. */
export interface Seen {
  url: string;
  status: number;
  headers: Headers;
  text: string;
}

/** A connect page as a browser holds it: the form's hidden fields and the cookies the page set. */
export interface ConnectPage extends Seen {
  fields: Record<string, string>;
  /** The `Cookie` header the browser would send back (name=value pairs), or undefined when none was set. */
  cookie: string | undefined;
}

const unescape = (value: string) =>
  value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The hidden fields of the forms in a page, unescaped. */
export function hiddenFields(html: string): Record<string, string> {
  return Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1] as string,
      unescape(m[2] as string),
    ]),
  );
}

/** Opens a connect page (`GET /connect/{id}`) and keeps what a browser keeps: hidden fields and cookies. */
export async function openConnectPage(connectUrl: string, init: RequestInit = {}): Promise<ConnectPage> {
  const res = await fetch(connectUrl, { redirect: 'manual', ...init });
  const text = await res.text();
  const fields = hiddenFields(text);
  const cookies = res.headers.getSetCookie().map((line) => line.split(';', 1)[0] as string);
  return {
    url: connectUrl,
    status: res.status,
    headers: res.headers,
    text,
    fields,
    cookie: cookies.length > 0 ? cookies.join('; ') : undefined,
  };
}

/**
 * Submits the page's form with a confirmation code, as the browser that opened it would
 * (its hidden fields, its cookies); `headers` adds or overrides (Origin, Sec-Fetch-Site).
 */
export function submitCode(
  connectUrl: string,
  page: Pick<ConnectPage, 'fields' | 'cookie'>,
  code: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(connectUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(page.cookie === undefined ? {} : { cookie: page.cookie }),
      ...headers,
    },
    body: new URLSearchParams({ ...page.fields, code }).toString(),
  });
}

/**
 * The tenant's browser through a Keygate connect link: opens the page, submits the
 * confirmation code from it (with the page's cookie and hidden fields, from the page's own
 * origin), follows the redirect to the (local) provider's consent and from there back to
 * Keygate's OAuth callback. Every page is kept, for canary hunting.
 */
export async function completeConnect(connectUrl: string, code: string): Promise<Seen[]> {
  const seen: Seen[] = [];
  const visit = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, { redirect: 'manual', ...init });
    const page = { url, status: res.status, headers: res.headers, text: await res.text() };
    seen.push(page);
    return page;
  };
  const page = await openConnectPage(connectUrl);
  seen.push(page);
  if (page.status !== 200) throw new Error(`connect page answered ${page.status}: ${page.text}`);
  const res = await submitCode(connectUrl, page, code, SAME_ORIGIN_FORM);
  const submitted = { url: connectUrl, status: res.status, headers: res.headers, text: await res.text() };
  seen.push(submitted);
  if (submitted.status !== 303)
    throw new Error(`code submit answered ${submitted.status}: ${submitted.text}`);
  const consent = await visit(submitted.headers.get('location') as string);
  if (consent.status !== 302) throw new Error(`provider answered ${consent.status}: ${consent.text}`);
  // The flow is bound to this browser: back at the callback it shows the cookie it was given.
  const callback = await visit(consent.headers.get('location') as string, withCookies(submitted.headers));
  if (callback.status >= 400) throw new Error(`callback answered ${callback.status}: ${callback.text}`);
  return seen;
}

/**
 * What a current browser sends with a form posted from the connect page itself: the page
 * has `Referrer-Policy: no-referrer`, so the Origin is the opaque `null` (Fetch standard),
 * and `Sec-Fetch-Site` says same-origin.
 */
export const SAME_ORIGIN_FORM: Readonly<Record<string, string>> = {
  origin: 'null',
  'sec-fetch-site': 'same-origin',
};

/** A request carrying the cookies an answer set, as the browser that got it would send them back. */
export function withCookies(headers: Headers): RequestInit {
  const cookie = headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
  return cookie ? { headers: { cookie } } : {};
}

/** The confirmation code in a message shown to the caller ("... enter the code ABCD-EFGH."). */
export function codeIn(message: string): string {
  const code = /\b([A-Z0-9]{4}-[A-Z0-9]{4})\b/.exec(message)?.[1];
  if (!code) throw new Error(`no confirmation code in: ${message}`);
  return code;
}
