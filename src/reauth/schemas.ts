import { Type } from '@sinclair/typebox';
import { errorResponses, htmlErrors, htmlPage } from '../http/schemas.ts';

// The connect-link pages' schemas, for GET /openapi.json. Documentation only: the id is
// checked by the links themselves, the assertion by identity.ts, and the form body is
// parsed into URLSearchParams (which a body schema would not see).
const Params = Type.Object({ id: Type.String({ description: 'The connect link id.' }) });
const COMMON = errorResponses('internal_error', 'vault_unavailable');

export const SHOW_LINK_SCHEMA = {
  tags: ['oauth'],
  summary: 'The connect link page: what will be connected, and how to confirm it',
  params: Params,
  response: { 200: htmlPage('The confirmation page.'), ...htmlErrors('connect_link_invalid'), ...COMMON },
};

export const IDENTIFIED_SCHEMA = {
  tags: ['oauth'],
  summary:
    'Spend the link with the application’s signed assertion (reauth.identity) and go on to the provider',
  params: Params,
  querystring: {
    type: 'object',
    properties: { assertion: { description: 'The application’s signed assertion for this link and user.' } },
  },
  response: {
    303: { description: 'On to the provider (Location: the authorization URL).' },
    ...htmlErrors('connect_link_invalid', 'connect_identity_invalid'),
    ...errorResponses('not_found', 'internal_error', 'vault_unavailable'),
  },
};

export const REDEEM_LINK_SCHEMA = {
  tags: ['oauth'],
  summary: 'Spend the link with its confirmation code (form field `code`) and go on to the provider',
  description:
    'application/x-www-form-urlencoded body with `code` and the page’s `form_token`, posted from the page (same origin) with the cookie it set; anything else is 403 connect_cross_site and spends nothing.',
  params: Params,
  response: {
    303: { description: 'On to the provider (Location: the authorization URL).' },
    ...htmlErrors('connect_code_invalid', 'connect_cross_site', 'connect_link_invalid'),
    ...errorResponses('not_found', 'internal_error', 'vault_unavailable'),
  },
};
