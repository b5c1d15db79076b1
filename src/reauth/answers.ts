import { ERRORS } from '../errors.ts';
import type { ConnectLink } from './links.ts';
import { MRTR_METHODS, speaksMrtr, type McpCall } from './mcp-request.ts';
import { INPUT_KEY } from './request-state.ts';

/** What Keygate offers a caller whose credential is dead: the link, its URL and a sentence for a person. */
export interface ReauthOffer {
  link: ConnectLink;
  url: string;
  message: string;
  /** The confirmation code to type on the page; undefined when the application's sign-in binds the link. */
  code: string | undefined;
}

export interface Answer {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
  /** A 401's `WWW-Authenticate` challenge (RFC 9110 §11.6.1 requires one). */
  challenge?: string;
}

/** MCP 2025-11-25 `URL_ELICITATION_REQUIRED`. */
export const URL_ELICITATION_REQUIRED = -32042;
/** MCP 2026-07-28 `MISSING_REQUIRED_CLIENT_CAPABILITY`. */
export const MISSING_REQUIRED_CLIENT_CAPABILITY = -32021;
/**
 * Keygate's own code, in the range MCP leaves to implementations (-32000..-32019), for a
 * 2026-07-28 request that may not carry an InputRequiredResult (e.g. tools/list).
 */
export const KEYGATE_REAUTH_REQUIRED = -32010;

export function offerMessage(link: ConnectLink, code: string | undefined): string {
  const account = link.account === 'default' ? '' : ` (account ${link.account})`;
  const what = `Connect ${link.integration}${account} for ${link.tenant} to continue: open the link`;
  return code === undefined ? `${what}.` : `${what} and enter the code ${code}.`;
}

const elicitation = (offer: ReauthOffer) => ({ mode: 'url', url: offer.url, message: offer.message });

const keygateData = (offer: ReauthOffer) => ({
  code: 'reauth_required',
  connect_url: offer.url,
  integration: offer.link.integration,
  account: offer.link.account,
});

const rpcError = (id: McpCall['id'], code: number, message: string, data: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  error: { code, message, data },
});

/**
 * The JSON-RPC answer to an MCP request, in the caller's revision:
 * - 2026-07-28 and later, on tools/call, resources/read or prompts/get from a client
 *   declaring URL elicitation: an InputRequiredResult with one URL elicitation and
 *   Keygate's requestState (`requestState` is made by the caller of this function);
 * - 2026-07-28, same methods, no URL elicitation declared: 400 MissingRequiredClientCapability;
 * - 2026-07-28, any other method: Keygate's -32010 (InputRequiredResult is not allowed there,
 *   and -32042 belongs to 2025-11-25);
 * - otherwise (2025-11-25, earlier, unknown): error -32042 with one URL elicitation.
 * HTTP 200 except where the revision says 400.
 */
export function mcpAnswer(call: McpCall, offer: ReauthOffer, requestState: () => string): Answer {
  const json = 'application/json';
  if (!speaksMrtr(call.protocolVersion)) {
    const body = rpcError(call.id, URL_ELICITATION_REQUIRED, ERRORS.reauth_required.message, {
      elicitations: [{ ...elicitation(offer), elicitationId: offer.link.id }],
      ...keygateData(offer),
    });
    return { status: 200, contentType: json, body };
  }
  if (!MRTR_METHODS.has(call.method)) {
    const body = rpcError(call.id, KEYGATE_REAUTH_REQUIRED, offer.message, keygateData(offer));
    return { status: 200, contentType: json, body };
  }
  if (!call.urlElicitation) {
    const body = rpcError(
      call.id,
      MISSING_REQUIRED_CLIENT_CAPABILITY,
      'This request needs the tenant to connect an integration, which takes URL-mode elicitation.',
      { requiredCapabilities: { elicitation: { url: {} } }, ...keygateData(offer) },
    );
    return { status: 400, contentType: json, body };
  }
  const result = {
    resultType: 'input_required',
    inputRequests: { [INPUT_KEY]: { method: 'elicitation/create', params: elicitation(offer) } },
    requestState: requestState(),
  };
  return { status: 200, contentType: json, body: { jsonrpc: '2.0', id: call.id, result } };
}

/** RFC 9457 problem details for any other caller, with the contract's `error` envelope beside them. */
export function problemAnswer(offer: ReauthOffer, requestId: string): Answer {
  const { message } = ERRORS.reauth_required;
  return {
    status: 401,
    contentType: 'application/problem+json',
    // Not Bearer: the caller's own key or token is good, and a Bearer challenge would send an
    // OAuth client to re-authorise with Keygate instead of opening the link.
    challenge: `Keygate-Connect realm="keygate", connect_url="${offer.url}"`,
    body: {
      type: 'urn:keygate:error:reauth_required',
      title: 'Re-authorisation required',
      status: 401,
      detail: offer.message,
      code: 'reauth_required',
      connect_url: offer.url,
      ...(offer.code === undefined ? {} : { confirmation_code: offer.code }),
      expires_at: offer.link.expiresAt,
      tenant: offer.link.tenant,
      integration: offer.link.integration,
      account: offer.link.account,
      requestId,
      error: { code: 'reauth_required', message, requestId },
    },
  };
}
