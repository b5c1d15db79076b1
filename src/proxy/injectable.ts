import type { IntegrationConfig } from '../config/schema.ts';
import { compileInjector } from './inject.ts';

// What Node and undici accept in a header value (RFC 9110 field-value, obs-text included):
// tab, printable ASCII and Latin-1; never CR, LF, NUL or another control character.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Why `token` cannot be injected into the integration's upstream requests, or
 * undefined when it can. Checked when a credential is stored: a value Node refuses
 * to send would otherwise fail every later request of the tenant.
 */
export function injectionProblem(integration: IntegrationConfig, token: string): string | undefined {
  const injector = compileInjector(integration);
  let value: string;
  try {
    // A query parameter is percent-encoded; that fails only on a lone surrogate.
    value = injector.query === undefined ? injector.value(token) : encodeURIComponent(token);
  } catch {
    return 'is not well-formed Unicode';
  }
  if (injector.header !== undefined && !HEADER_VALUE.test(value)) {
    return 'holds a character an HTTP header cannot carry (CR, LF, NUL, another control character, or beyond Latin-1)';
  }
  return undefined;
}
