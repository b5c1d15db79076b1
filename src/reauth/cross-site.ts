import type { IncomingHttpHeaders } from 'node:http';

/**
 * True for a request a page of another site made the browser send (a form that posts itself):
 * by Fetch Metadata (`Sec-Fetch-Site`, sent by every current browser), else by `Origin` (sent
 * with every cross-origin POST). A request with neither did not come from a browser page.
 */
export function isCrossSite(headers: IncomingHttpHeaders, origins: readonly string[]): boolean {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none';
  const origin = headers.origin;
  if (typeof origin === 'string') return !origins.includes(origin);
  return false;
}
