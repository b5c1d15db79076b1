/** One page a test browser saw: status, headers and text. */
export interface Seen {
  url: string;
  status: number;
  headers: Headers;
  text: string;
}

/**
 * The tenant's browser through a Keygate connect link: opens the page, submits the
 * confirmation code, follows the redirect to the (local) provider's consent and from
 * there back to Keygate's OAuth callback. Every page is kept, for canary hunting.
 */
export async function completeConnect(connectUrl: string, code: string): Promise<Seen[]> {
  const seen: Seen[] = [];
  const visit = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, { redirect: 'manual', ...init });
    const page = { url, status: res.status, headers: res.headers, text: await res.text() };
    seen.push(page);
    return page;
  };
  const page = await visit(connectUrl);
  if (page.status !== 200) throw new Error(`connect page answered ${page.status}: ${page.text}`);
  const submitted = await visit(connectUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code }).toString(),
  });
  if (submitted.status !== 303)
    throw new Error(`code submit answered ${submitted.status}: ${submitted.text}`);
  const consent = await visit(submitted.headers.get('location') as string);
  if (consent.status !== 302) throw new Error(`provider answered ${consent.status}: ${consent.text}`);
  // The flow is bound to this browser: back at the callback it shows the cookie it was given.
  const callback = await visit(consent.headers.get('location') as string, withCookies(submitted.headers));
  if (callback.status >= 400) throw new Error(`callback answered ${callback.status}: ${callback.text}`);
  return seen;
}

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
