import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NAME_PATTERN } from '../../config/schema.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import type { AdminDeps } from '../deps.ts';

const Name = Type.String({ pattern: NAME_PATTERN });
const NullableTime = Type.Union([Type.String(), Type.Null()]);
const NullableCount = Type.Union([Type.Number(), Type.Null()]);

const BudgetsQuery = Type.Object(
  { tenant: Type.Optional(Name), integration: Type.Optional(Name) },
  { additionalProperties: false },
);
type BudgetsQuery = Static<typeof BudgetsQuery>;

const Quota = Type.Object({
  name: Type.String({
    description: '`requests`, `tokens`, `input-tokens`, `output-tokens`, or an IETF policy name',
  }),
  unit: Type.String(),
  refill: Type.Union([Type.Literal('window'), Type.Literal('bucket')]),
  limit: NullableCount,
  remaining: Type.Union([Type.Integer(), Type.Null()], {
    description:
      "Keygate's estimate now: the provider's last word, less what went since, plus what came back",
  }),
  resetAt: NullableTime,
  paced: Type.Boolean({
    description: 'Spread over its window, as the last one ran out with requests waiting',
  }),
});

const Budget = Type.Object({
  tenant: Type.String(),
  integration: Type.String(),
  account: Type.String(),
  quotas: Type.Array(Quota),
  blockedUntil: NullableTime,
  waiting: Type.Integer(),
  learnedAt: NullableTime,
});

/**
 * GET /v1/budgets: the upstream budgets this replica learned from the providers' answers
 * (docs/budgets.md). In memory and per replica: each replica answers with its own view.
 */
export function listBudgets(app: FastifyInstance, { budgets }: Pick<AdminDeps, 'budgets'>): void {
  app.get<{ Querystring: BudgetsQuery }>(
    '/budgets',
    {
      schema: {
        ...adminDoc(
          "This replica's learned upstream budgets",
          "Each credential's rate limit as learned from its provider's answers, by the replica that answers; never a secret.",
        ),
        querystring: BudgetsQuery,
        response: {
          200: Type.Object({
            replica: Type.String({ description: 'The replica whose budgets these are' }),
            budgets: Type.Array(Budget),
          }),
          ...adminErrors('validation_failed'),
        },
      },
    },
    async (request) => ({ replica: budgets?.replica ?? '', budgets: budgets?.list(request.query) ?? [] }),
  );
}
