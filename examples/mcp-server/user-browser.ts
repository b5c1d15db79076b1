// Stands in for the user's browser in this demo (a real user opens the link in theirs; an
// MCP server needs none of this). It does what a browser does with Keygate's connect link:
// keeps each site's cookies, submits the page's form with the code from its own origin, and
// follows the redirects to the provider's consent (the demo provider says yes at once) and
// back to Keygate's OAuth callback, which stores the tenant's tokens.

/** Opens `url`, enters `code`, and follows the flow to its end; returns the last status. */
export async function openAsTheUser(url: string, code: string): Promise<number> {
  const jar = new Map<string, Map<string, string>>(); // host → cookie name → value
  const visit = async (target: string, init: RequestInit = {}) => {
    const host = new URL(target).host;
    const cookies = [...(jar.get(host) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`);
    const res = await fetch(target, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        ...(cookies.length ? { cookie: cookies.join('; ') } : {}),
      },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const site = jar.get(host) ?? new Map<string, string>();
      site.set(pair.slice(0, at), pair.slice(at + 1));
      jar.set(host, site);
    }
    return res;
  };

  const page = await visit(url);
  if (page.status !== 200) throw new Error(`the connect page answered ${page.status}`);
  const fields = Object.fromEntries(
    [...(await page.text()).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1],
      m[2],
    ]),
  );
  let res = await visit(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: 'null', // the page sends no referrer, so its forms carry an opaque origin
      'sec-fetch-site': 'same-origin',
    },
    body: new URLSearchParams({ ...fields, code }).toString(),
  });
  while (res.status >= 300 && res.status < 400) {
    res = await visit(new URL(res.headers.get('location') ?? '', url).href);
  }
  return res.status;
}
