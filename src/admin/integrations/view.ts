import { Type, type Static } from '@sinclair/typebox';
import { budgetOf } from '../../config/budgets.ts';
import type { IntegrationConfig } from '../../config/schema.ts';

/**
 * What the admin API tells about a configured integration. An allow-list: fields added
 * to the configuration later stay out until named here, so no secret leaks by default.
 * The client secret is only "set or not"; header values (a fixed header may carry a
 * static secret) are left out, only their names shown.
 */
export const IntegrationViewSchema = Type.Object({
  name: Type.String(),
  template: Type.Optional(Type.String()),
  baseUrl: Type.String(),
  auth: Type.Object({
    type: Type.String(),
    authorizationUrl: Type.Optional(Type.String()),
    tokenUrl: Type.Optional(Type.String()),
    revocationUrl: Type.Optional(Type.String()),
    clientId: Type.Optional(Type.String()),
    clientSecretSet: Type.Boolean(),
    scopes: Type.Optional(Type.Array(Type.String())),
    tokenEndpointAuthMethod: Type.Optional(Type.String()),
  }),
  inject: Type.Object({
    header: Type.Optional(Type.String()),
    format: Type.Optional(Type.String()),
    query: Type.Optional(Type.String()),
    basic: Type.Optional(
      Type.Object({ username: Type.Optional(Type.String()), password: Type.Optional(Type.String()) }),
    ),
  }),
  headers: Type.Array(Type.String(), { description: 'Names of the default headers (values not shown).' }),
  forceHeaders: Type.Array(Type.String(), { description: 'Names of the forced headers (values not shown).' }),
  upstream: Type.Object({}, { additionalProperties: Type.Union([Type.Number(), Type.String()]) }),
  /** Whether POST .../connect/{integration} works for it. */
  connect: Type.Boolean(),
  /** The upstream budget settings with their defaults (docs/budgets.md); absent: nothing is learned. */
  budget: Type.Optional(
    Type.Object({ headers: Type.String(), maxWaitMs: Type.Integer(), fairShare: Type.Boolean() }),
  ),
});
export type IntegrationView = Static<typeof IntegrationViewSchema>;

type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };
const defined = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Defined<T>;

// Only a username or password that is the token's template is shown; a literal password is a secret.
const templateOnly = (v: string | undefined) => (v !== undefined && v.includes('{token}') ? v : undefined);

export function integrationView(name: string, integration: IntegrationConfig): IntegrationView {
  const { auth } = integration;
  const inject = integration.inject ?? {};
  const forced = (integration as { forceHeaders?: Record<string, string> }).forceHeaders;
  return {
    name,
    ...defined({ template: integration.template }),
    baseUrl: integration.baseUrl,
    auth: {
      type: auth.type,
      ...defined({
        authorizationUrl: auth.authorizationUrl,
        tokenUrl: auth.tokenUrl,
        revocationUrl: auth.revocationUrl,
        clientId: auth.clientId,
        scopes: auth.scopes ? [...auth.scopes] : undefined,
        tokenEndpointAuthMethod: auth.tokenEndpointAuthMethod,
      }),
      clientSecretSet: auth.clientSecret !== undefined,
    },
    inject: defined({
      header: inject.header,
      format: inject.format,
      query: inject.query,
      basic: inject.basic && {
        ...defined({
          username: inject.basic.username ?? '{token}',
          password: templateOnly(inject.basic.password),
        }),
      },
    }),
    headers: Object.keys(integration.headers ?? {}),
    forceHeaders: Object.keys(forced ?? {}),
    upstream: { ...defined({ ...integration.upstream }) },
    connect: auth.type === 'oauth2' && auth.authorizationUrl !== undefined && auth.clientId !== undefined,
    ...defined({ budget: budgetOf(integration) }),
  };
}
