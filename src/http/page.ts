// The pieces of Keygate's few HTML pages (connect links, the OAuth callback).

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);

/** Sent with every page: nothing loads from elsewhere, no framing (clickjacking), no referrer, no cache. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** A whole page: nothing loaded from elsewhere, `title` and `body` already escaped where needed. */
export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escape(title)} · Keygate</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}
dt{font-weight:600}dd{margin:0 0 .5rem}input{font:inherit;padding:.3rem;letter-spacing:.1em}
button{font:inherit;padding:.4rem 1rem}.error{color:#a00}</style></head>
<body><h1>${escape(title)}</h1>${body}</body></html>`;
}
