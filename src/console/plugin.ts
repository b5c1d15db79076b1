import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { KeygateError } from '../errors.ts';
import { errorResponses, htmlPage } from '../http/schemas.ts';
import { rootRoute } from './root.ts';

// The browser modules are served as written (no build); this path is the same from
// src/console and from the compiled dist/console, so `npm run build` needs no copy step.
const UI = resolve(import.meta.dirname, '../../src/console/ui');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Only same-origin scripts and styles, no inline script, no framing, and Trusted Types
 * with no policy at all: assigning a string to innerHTML (or any HTML sink) throws, so
 * nothing a tenant controls can ever be parsed as HTML, whatever a future edit does.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The console's files, read once at start: a fixed set, served from memory. */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(UI)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(UI, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(name, { body, type, etag });
  }
  return assets;
}

function send(reply: FastifyReply, asset: Asset, ifNoneMatch: string | undefined): FastifyReply {
  reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin')
    // Revalidated on every load, so a new Keygate never runs with an old page's modules.
    .header('cache-control', 'no-cache')
    .header('etag', asset.etag);
  if (ifNoneMatch === asset.etag) return reply.code(304).send();
  return reply.type(asset.type).send(asset.body);
}

/**
 * GET /console: the operator's page, and its modules under /console/assets/. The page
 * holds no data and needs no token; everything it shows comes from the admin API, called
 * with the admin token the operator signs in with.
 */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const assets = loadAssets();
  const page = assets.get('index.html');
  if (!page) throw new Error(`the console page is missing from ${UI}`);
  rootRoute(app);
  const notModified = { description: 'Not modified (the If-None-Match ETag is current).' };
  app.get(
    '/console',
    {
      schema: {
        tags: ['console'],
        summary: "The operator's console (sign in with the admin token)",
        response: { 200: htmlPage('The console page; strict CSP, no framing.'), 304: notModified },
      },
    },
    (request, reply) => send(reply, page, request.headers['if-none-match']),
  );
  const assetSchema = {
    tags: ['console'],
    summary: "The console's modules, stylesheet and icon",
    params: Type.Object({ file: Type.String({ maxLength: 64 }) }),
    response: {
      200: { description: 'JavaScript, CSS or SVG.' },
      304: notModified,
      ...errorResponses('not_found'),
    },
  };
  app.get<{ Params: { file: string } }>(
    '/console/assets/:file',
    { schema: assetSchema },
    (request, reply) => {
      const asset = request.params.file === 'index.html' ? undefined : assets.get(request.params.file);
      if (!asset) throw new KeygateError('not_found');
      return send(reply, asset, request.headers['if-none-match']);
    },
  );
}
