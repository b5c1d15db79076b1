import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NAME_PATTERN } from '../../config/schema.ts';
import { decodeCursor, type Inventory } from '../../credentials/fleet-index.ts';
import { invalidFields } from '../../http/invalid-fields.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';

const Name = Type.String({ pattern: NAME_PATTERN });
const NullableTime = Type.Union([Type.String(), Type.Null()]);

export const FleetQuery = Type.Object(
  {
    tenant: Type.Optional(Name),
    integration: Type.Optional(Name),
    status: Type.Optional(
      Type.Union(['active', 'expiring_soon', 'refresh_failed', 'needs_reauth'].map((s) => Type.Literal(s))),
    ),
    q: Type.Optional(Type.String({ maxLength: 64 })),
    // A query string is text: the number is checked by pattern (no type coercion here).
    limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$' })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
type FleetQuery = Static<typeof FleetQuery>;

const FleetCredential = Type.Object({
  tenant: Type.String(),
  integration: Type.String(),
  account: Type.String(),
  authType: Type.String(),
  status: Type.String(),
  expiresAt: NullableTime,
  expiringSoon: Type.Boolean(),
  nextRefreshAt: NullableTime,
  lastRefresh: Type.Union([
    Type.Object({ result: Type.String(), at: Type.String(), error: Type.Optional(Type.String()) }),
    Type.Null(),
  ]),
});

/**
 * GET /v1/inventory: the fleet's credentials (every tenant, every account), filtered and
 * paged from the in-memory inventory, so a page costs no Vault read at any fleet size.
 */
export function listFleet(app: FastifyInstance, { inventory }: { inventory: Inventory }): void {
  app.get<{ Querystring: FleetQuery }>(
    '/inventory',
    {
      schema: {
        ...adminDoc(
          'The fleet inventory: every credential of every tenant',
          'Filtered and paged from memory (filled from Vault metadata, no decryption); never a secret.',
        ),
        querystring: FleetQuery,
        response: {
          ...adminErrors('validation_failed'),
          200: Type.Object({
            credentials: Type.Array(FleetCredential),
            nextCursor: Type.Optional(Type.String()),
            total: Type.Integer(),
          }),
        },
      },
    },
    async (request) => {
      const { tenant, integration, status, q, limit, cursor } = request.query;
      if (cursor !== undefined && !decodeCursor(cursor)) {
        throw invalidFields(['querystring.cursor: is not a cursor this Keygate made']);
      }
      // Before the first listing (Keygate just started), wait for it rather than answer empty.
      if (!inventory.ready) await inventory.relist();
      return inventory.query({
        tenant,
        integration,
        status: status as Parameters<Inventory['query']>[0]['status'],
        q: q?.trim().toLowerCase() || undefined,
        limit: limit === undefined ? 50 : Number(limit),
        cursor,
      });
    },
  );
}
