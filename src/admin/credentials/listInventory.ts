import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { decodeCursor } from '../../credentials/fleet-index.ts';
import { assertNames, isValidName } from '../../credentials/names.ts';
import { KeygateError } from '../../errors.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import type { AdminDeps } from '../deps.ts';

const Status = Type.Union(
  ['active', 'expiring_soon', 'refresh_failed', 'needs_reauth'].map((s) => Type.Literal(s)),
);
const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

// Names are checked by assertNames (invalid_name), as on every other route.
const InventoryQuerystring = Type.Object(
  {
    tenant: Type.Optional(Type.String({ description: 'Only this tenant.' })),
    integration: Type.Optional(Type.String({ description: 'Only this integration.' })),
    account: Type.Optional(Type.String({ description: 'Only this account.' })),
    status: Type.Optional({
      ...Status,
      description: 'The stored status; expiring_soon: the active ones that expire within the hour unrenewed.',
    }),
    q: Type.Optional(
      Type.String({ maxLength: 64, description: 'Part of the tenant, integration or account name.' }),
    ),
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

const InventoryItem = Type.Object({
  tenant: Type.String(),
  integration: Type.String(),
  account: Type.String(),
  authType: Type.String(),
  status: Type.String({ description: 'active, refresh_failed or needs_reauth, as stored.' }),
  expiresAt: Time,
  expiringSoon: Type.Boolean(),
  updatedAt: Time,
  lastRefreshedAt: Time,
  lastRefreshError: Type.Union([Type.String(), Type.Null()]),
  nextRefreshAt: Time,
  lastRefresh: Type.Union([
    Type.Object({ result: Type.String(), at: Type.String(), error: Type.Optional(Type.String()) }),
    Type.Null(),
  ]),
});

const InventoryPage = Type.Object({
  credentials: Type.Array(InventoryItem),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  total: Type.Integer({ description: 'Credentials matching the filter, on every page.' }),
});

const badCursor = () =>
  new KeygateError('validation_failed', {
    message: 'The cursor is not one this API gave out: pass a page’s nextCursor back as it came.',
    details: ['querystring.cursor: not a cursor this API gave out'],
  });

/**
 * GET /v1/credentials: the fleet's credentials (every tenant, every account), filtered and
 * paged from the in-memory inventory (filled from Vault KV metadata, nothing decrypted;
 * src/credentials/fleet-index.ts), so a page costs no Vault read at any fleet size.
 * GET /v1/inventory is the same route under the name the console first used.
 */
export function listInventory(app: FastifyInstance, { inventory, schedule }: AdminDeps): void {
  const dueAt = schedule?.dueAt?.bind(schedule);
  for (const [url, alias] of [
    ['/credentials', false],
    ['/inventory', true],
  ] as const) {
    app.get<{ Querystring: InventoryQuerystring }>(
      url,
      {
        schema: {
          ...adminDoc(
            alias
              ? 'The fleet-wide credential inventory (alias of GET /v1/credentials)'
              : 'The fleet-wide credential inventory',
            'Every stored credential of every tenant, from Vault KV metadata without decrypting (kept in memory, so a page costs no Vault read); filtered and paged with a cursor.',
          ),
          ...(alias ? { deprecated: true } : {}),
          querystring: InventoryQuerystring,
          response: {
            200: InventoryPage,
            ...adminErrors('invalid_name', 'validation_failed'),
          },
        },
      },
      async (request) => {
        const { tenant, integration, account, status, q, limit, cursor } = request.query;
        assertNames(tenant ?? 'x', integration, account);
        if (cursor !== undefined) {
          const ref = decodeCursor(cursor);
          if (!ref || ![ref.tenant, ref.integration, ref.account].every(isValidName)) throw badCursor();
        }
        // Before the first listing (Keygate just started), wait for it rather than answer empty.
        if (!inventory.ready) await inventory.relist();
        return inventory.query({
          tenant,
          integration,
          account,
          status: status as 'active' | 'expiring_soon' | 'refresh_failed' | 'needs_reauth' | undefined,
          q: q?.trim().toLowerCase() || undefined,
          limit: limit === undefined ? 100 : Number(limit),
          cursor,
          dueAt,
        });
      },
    );
  }
}
