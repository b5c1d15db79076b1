import { RawReply, RawRequest } from '../http/exchange.ts';
import type { RawHandler } from '../http/front-door.ts';
import { namesValid, splitProxyUrl, type ProxyTarget } from './path.ts';

// The methods Fastify routes to `app.all` (lib/route.js); any other is Fastify's 404.
const METHODS = new Set(['GET', 'HEAD', 'TRACE', 'DELETE', 'OPTIONS', 'PATCH', 'PUT', 'POST']);
// Fastify's test of a Content-Type (lib/content-type.js): an invalid one is its 415.
const TYPE = /^[\w!#$%&'*+.^`|~-]+$/;
const SUBTYPE = /^[\w!#$%&'*+.^`|~-]+\s*$/;
const MAX_VERDICTS = 100;
const verdicts = new Map<string, boolean>();

function validMediaType(value: string): boolean {
  let valid = verdicts.get(value);
  if (valid === undefined) {
    const end = value.indexOf(';');
    const media = end === -1 ? value : value.slice(0, end);
    const slash = media.indexOf('/');
    valid =
      slash !== -1 &&
      TYPE.test(media.slice(0, slash).trimStart()) &&
      SUBTYPE.test(media.slice(slash + 1).trimEnd());
    if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
    verdicts.set(value, valid);
  }
  return valid;
}

/**
 * The proxy's lean path: `/proxy/...` requests served straight off Node's request
 * event, by the same steps (plugin.ts) on a request and reply that cost almost
 * nothing to make. Fastify's router, hooks and reply were most of the proxy's CPU per
 * request (docs/proxy.md#benchmark). It takes only what Fastify would have routed
 * to the proxy unchanged; a request its router answers itself (a percent-escape it
 * may refuse, a name that is not one, a content type it refuses, a method it does not
 * route) goes to Fastify, whose answers stay what they were.
 */
export function leanPath(
  serve: (request: RawRequest, reply: RawReply, target: ProxyTarget) => void,
): RawHandler {
  return (req, res) => {
    const url = req.url ?? '';
    if (!url.startsWith('/proxy/') || !METHODS.has(req.method ?? '')) return false;
    const target = splitProxyUrl(url);
    if (target === undefined || !namesValid(target) || target.rest.includes('%')) {
      return false;
    }
    const type = req.headers['content-type'];
    if (type !== undefined && !validMediaType(type)) return false;
    const request = new RawRequest(req);
    serve(request, new RawReply(res, request), target);
    return true;
  };
}
