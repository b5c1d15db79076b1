import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyBody } from '../proxy/body.ts';

/** A JSON-RPC request of the Model Context Protocol, as far as re-authorisation needs it. */
export interface McpCall {
  id: string | number;
  method: string;
  /** `params.name` (tools/call, prompts/get) or `params.uri` (resources/read), when a string. */
  name: string | undefined;
  /** The revision the caller speaks: the MCP-Protocol-Version header, else what the body says. */
  protocolVersion: string | undefined;
  /** 2026-07-28 and later: the request's `_meta` declares URL-mode elicitation. */
  urlElicitation: boolean;
  params: Record<string, unknown> | undefined;
}

/** The first revision with multi round-trip requests (InputRequiredResult, requestState). */
export const MRTR_REVISION = '2026-07-28';
/** The requests on which a 2026-07-28 server may answer InputRequiredResult. */
export const MRTR_METHODS = new Set(['tools/call', 'resources/read', 'prompts/get']);

const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const header = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** True when the caller speaks a revision with multi round-trip requests (dates compare as strings). */
export function speaksMrtr(protocolVersion: string | undefined): boolean {
  return protocolVersion !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(protocolVersion)
    ? protocolVersion >= MRTR_REVISION
    : false;
}

/**
 * The MCP request in a proxied call, or undefined for anything else. Only a body the
 * proxy already buffered is looked at (a JSON POST within the replay limit); a streamed
 * body is never read for this. An MCP request is a JSON-RPC 2.0 request (with an id)
 * sent the way the Streamable HTTP transport sends it: with an MCP header
 * (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Session-Id`), or as `initialize`, or
 * accepting `text/event-stream`.
 */
export function mcpCallOf(
  method: string,
  headers: IncomingHttpHeaders,
  body: ProxyBody,
): McpCall | undefined {
  if (method !== 'POST' || body.kind !== 'buffered') return undefined;
  if (!/^application\/json\b/i.test(header(headers, 'content-type') ?? '')) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(body.data.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(message) || message['jsonrpc'] !== '2.0' || typeof message['method'] !== 'string')
    return undefined;
  const id = message['id'];
  if (typeof id !== 'string' && typeof id !== 'number') return undefined; // a notification has no answer
  const rpcMethod = message['method'];
  const mcpHeaders =
    header(headers, 'mcp-protocol-version') ??
    header(headers, 'mcp-method') ??
    header(headers, 'mcp-session-id');
  const acceptsStream = /\btext\/event-stream\b/i.test(header(headers, 'accept') ?? '');
  if (mcpHeaders === undefined && rpcMethod !== 'initialize' && !acceptsStream) return undefined;

  const params = isObject(message['params']) ? message['params'] : undefined;
  const meta = params && isObject(params['_meta']) ? params['_meta'] : undefined;
  const fromBody =
    typeof meta?.[META_VERSION] === 'string'
      ? meta[META_VERSION]
      : rpcMethod === 'initialize' && typeof params?.['protocolVersion'] === 'string'
        ? params['protocolVersion']
        : undefined;
  const capabilities = meta && isObject(meta[META_CAPABILITIES]) ? meta[META_CAPABILITIES] : undefined;
  const elicitation =
    capabilities && isObject(capabilities['elicitation']) ? capabilities['elicitation'] : undefined;
  const name = typeof params?.['name'] === 'string' ? params['name'] : params?.['uri'];
  return {
    id,
    method: rpcMethod,
    name: typeof name === 'string' ? name : undefined,
    protocolVersion: header(headers, 'mcp-protocol-version') ?? (fromBody as string | undefined),
    urlElicitation: elicitation !== undefined && isObject(elicitation['url']),
    params,
  };
}
