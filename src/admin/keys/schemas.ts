import { Type, type Static } from '@sinclair/typebox';
import { NAME_PATTERN } from '../../config/schema.ts';
import { KEY_ID_PATTERN } from '../../keys/key-format.ts';

const Name = Type.String({ pattern: NAME_PATTERN });

/** Keygate's own limits on the key's requests, per replica (docs/budgets.md#own-limits). */
const KeyLimits = Type.Object(
  {
    requestsPerMinute: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'Requests per minute, per replica.' }),
    ),
  },
  { additionalProperties: false },
);

export const CreateKeyBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    tenants: Type.Array(Type.Union([Type.Literal('*'), Name]), { minItems: 1, maxItems: 1000 }),
    integrations: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 1000 })),
    accounts: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 1000, uniqueItems: true })),
    limits: Type.Optional(KeyLimits),
  },
  { additionalProperties: false },
);
export type CreateKeyBody = Static<typeof CreateKeyBody>;

export const CreatedKey = Type.Object({
  id: Type.String(),
  key: Type.String(),
  name: Type.Optional(Type.String()),
  tenants: Type.Array(Type.String()),
  integrations: Type.Optional(Type.Array(Type.String())),
  accounts: Type.Optional(Type.Array(Type.String())),
  limits: Type.Optional(KeyLimits),
  createdAt: Type.String(),
});

/** A key as listed: what it may be used for, never its secret or digest. */
export const KeyInfoSchema = Type.Object({
  id: Type.String(),
  name: Type.Optional(Type.String()),
  tenants: Type.Array(Type.String(), { description: 'Tenants it may act for; ["*"] is every tenant.' }),
  integrations: Type.Optional(
    Type.Array(Type.String(), { description: 'Integrations it may reach; absent: every integration.' }),
  ),
  accounts: Type.Optional(
    Type.Array(Type.String(), {
      description:
        'Accounts it may use (keygate-account); absent: every account. With one, requests naming none use it.',
    }),
  ),
  limits: Type.Optional(KeyLimits),
  createdAt: Type.String(),
});

export const KeyParams = Type.Object({ id: Type.String({ pattern: KEY_ID_PATTERN }) });
export type KeyParams = Static<typeof KeyParams>;
