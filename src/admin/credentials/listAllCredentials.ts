import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import { credentialsPage } from '../../credentials/fleet-page.ts';
import type { AdminDeps } from '../deps.ts';

const Status = Type.Union([
  Type.Literal('active'),
  Type.Literal('refresh_failed'),
  Type.Literal('needs_reauth'),
]);
const Nullable = (schema: ReturnType<typeof Type.String>) => Type.Union([schema, Type.Null()]);

// Names are checked by assertNames (invalid_name), like on every other route.
const InventoryQuerystring = Type.Object(
  {
    tenant: Type.Optional(Type.String({ description: 'Only this tenant.' })),
    integration: Type.Optional(Type.String({ description: 'Only this integration.' })),
    account: Type.Optional(Type.String({ description: 'Only this account.' })),
    status: Type.Optional(Status),
    // A string: query values are not coerced (ajv coerceTypes is off server-wide).
    limit: Type.Optional(
      Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: 'Rows per page, 1 to 1000 (100).' }),
    ),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'nextCursor of the previous page.' }),
    ),
  },
  { additionalProperties: false },
);
type InventoryQuerystring = Static<typeof InventoryQuerystring>;

export const InventoryItemSchema = Type.Object({
  tenant: Type.String(),
  integration: Type.String(),
  account: Type.String(),
  authType: Type.String(),
  status: Status,
  expiresAt: Nullable(Type.String({ format: 'date-time' })),
  updatedAt: Nullable(Type.String({ format: 'date-time' })),
  lastRefreshedAt: Nullable(Type.String({ format: 'date-time' })),
  lastRefreshError: Nullable(Type.String()),
  nextRefreshAt: Nullable(Type.String({ format: 'date-time' })),
});

const InventoryPageSchema = Type.Object({
  credentials: Type.Array(InventoryItemSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

/**
 * GET /v1/credentials: the fleet-wide inventory, filtered by tenant, integration, account
 * and status, paged with a cursor. Answered from the in-memory fleet inventory (filled from
 * Vault KV metadata, nothing decrypted; see fleet-index.ts), so a page costs no Vault read.
 */
export function listAllCredentials(app: FastifyInstance, { inventory, schedule }: AdminDeps): void {
  app.get<{ Querystring: InventoryQuerystring }>(
    '/credentials',
    {
      schema: {
        ...adminDoc(
          'The fleet-wide credential inventory',
          'Every stored credential of every tenant, from Vault KV metadata without decrypting (kept in memory, so a page costs no Vault read); filtered and paged with a cursor.',
        ),
        querystring: InventoryQuerystring,
        response: {
          200: InventoryPageSchema,
          ...adminErrors('invalid_name', 'validation_failed', 'vault_error'),
        },
      },
    },
    async (request) => {
      // Before the first listing (Keygate just started), wait for it rather than answer empty.
      if (!inventory.ready) await inventory.relist();
      return credentialsPage(
        inventory.sorted(),
        { ...request.query, limit: Number(request.query.limit ?? 100) },
        (tenant, integration, account) => schedule?.dueAt?.(tenant, integration, account),
      );
    },
  );
}
