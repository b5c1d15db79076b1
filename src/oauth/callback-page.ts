import { escape, layout } from '../http/page.ts';
import type { KeygateError } from '../errors.ts';
import type { FlowRef } from './connect.ts';

const who = (flow: FlowRef) =>
  `<dl><dt>Integration</dt><dd>${escape(flow.integration)}</dd><dt>Tenant</dt><dd>${escape(flow.tenant)}</dd>${
    flow.account === 'default' ? '' : `<dt>Account</dt><dd>${escape(flow.account)}</dd>`
  }</dl>`;

/** What the tenant's browser sees after consent when the flow named no returnTo. */
export function connectedPage(flow: FlowRef): string {
  return layout(
    `Connected ${flow.integration}`,
    `<p>Keygate stored the connection. You can close this window.</p>${who(flow)}`,
  );
}

/** The same after a failure: Keygate's stable code and message, never the provider's text. */
export function connectFailedPage(error: KeygateError, flow: FlowRef | undefined): string {
  return layout(
    flow ? `Could not connect ${flow.integration}` : 'Could not connect',
    `<p class="error">${escape(error.message)}</p>${flow ? who(flow) : ''}<p>Error code: <code>${escape(error.code)}</code></p>`,
  );
}
