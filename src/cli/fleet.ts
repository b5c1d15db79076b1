import type { AdminClient } from './admin-client.ts';

/** Every row of GET /v1/credentials (the fleet-wide inventory), following its cursor. */
export async function fleetCredentials(
  client: AdminClient,
  filters: Record<string, string | undefined>,
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '1000' });
    for (const [k, v] of Object.entries(filters)) if (v) query.set(k, v);
    if (cursor) query.set('cursor', cursor);
    const page: { credentials: Record<string, unknown>[]; nextCursor?: string | null } = await client.call(
      'GET',
      `/v1/credentials?${query}`,
    );
    rows.push(...page.credentials);
    cursor = page.nextCursor ?? null;
  } while (cursor);
  return rows;
}
