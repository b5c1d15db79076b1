import type { Command } from 'commander';
import { contextOf } from '../context.ts';
import { fleetCredentials } from '../fleet.ts';
import { table } from '../output.ts';

interface Status {
  url: string;
  healthy: boolean;
  ready: boolean;
  /** Why not ready (Vault unreachable, sealed, refusing Keygate's token). */
  reason?: string;
  /** Credentials by status, from the fleet-wide inventory; absent where this Keygate has none. */
  credentials?: { total: number; byStatus: Record<string, number> };
}

/**
 * `keygate status`: liveness, readiness (Vault), and credentials by status. Exit 1 when not
 * ready. The first two need no secret, so without KEYGATE_ADMIN_TOKEN the counts are left out.
 */
export function statusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'is Keygate up and ready (Vault reachable, unsealed, accepting it), and how its credentials stand',
    )
    .action(async (_options: unknown, command: Command) => {
      const { client, out } = contextOf(command);
      const health = await client.fetch('GET', '/healthz', undefined, false);
      await health.body?.cancel();
      const readyz = await client.fetch('GET', '/readyz', undefined, false);
      const readiness = (await readyz.json().catch(() => ({}))) as { reason?: string };
      const status: Status = { url: client.url, healthy: health.ok, ready: readyz.ok };
      if (!readyz.ok && readiness.reason) status.reason = readiness.reason;
      // Older Keygates have no inventory route: then there are no counts, not a failure.
      const hasInventory =
        status.ready &&
        client.hasToken &&
        (await client.optional('GET', '/v1/credentials?limit=1')) !== undefined;
      if (hasInventory) {
        const rows = await fleetCredentials(client, {});
        const byStatus: Record<string, number> = {};
        for (const c of rows) byStatus[String(c['status'])] = (byStatus[String(c['status'])] ?? 0) + 1;
        status.credentials = { total: rows.length, byStatus };
      }
      out.result(status, () => {
        const lines = [
          `keygate     ${status.url}  ${status.healthy ? 'up' : 'DOWN'}`,
          `vault       ${status.ready ? 'ready' : `NOT READY${status.reason ? ` (${status.reason})` : ''}`}`,
        ];
        if (status.credentials) {
          const counts = Object.entries(status.credentials.byStatus)
            .map(([s, n]) => `${n} ${s}`)
            .join(', ');
          lines.push(`credentials ${status.credentials.total}${counts ? ` (${counts})` : ''}`);
        } else if (status.ready && !client.hasToken) {
          lines.push('credentials (set KEYGATE_ADMIN_TOKEN to count them)');
        } else if (status.ready) {
          lines.push('credentials (this Keygate has no GET /v1/credentials to count them)');
        }
        return lines.join('\n');
      });
      if (!status.ready) process.exitCode = 1;
    });
}

/** `keygate templates`, `tenants` and `integrations`: the catalogue, who has credentials, what is configured. */
export function catalogueCommands(program: Command): void {
  program
    .command('templates')
    .description('list the built-in integration templates (template: NAME in the configuration)')
    .action(async (_options: unknown, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.call<{ templates: Record<string, unknown>[] }>('GET', '/v1/templates');
      const rows = answer.templates.map((t) => {
        const config = (t['config'] ?? {}) as { baseUrl?: string; auth?: { type?: string } };
        return { ...t, authType: config.auth?.type, baseUrl: config.baseUrl };
      });
      out.result(answer, () => table(rows, ['name', 'authType', 'baseUrl']));
    });

  program
    .command('tenants')
    .description('list the tenants: every one that holds at least one credential')
    .action(async (_options: unknown, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.call<{ tenants: { name: string }[] }>('GET', '/v1/tenants');
      out.result(answer, () => table(answer.tenants, ['name']));
    });

  program
    .command('integrations')
    .description('list the configured integrations (non-secret fields)')
    .action(async (_options: unknown, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.call<{ integrations: Record<string, unknown>[] }>(
        'GET',
        '/v1/integrations',
      );
      const rows = answer.integrations.map((i) => ({
        ...i,
        authType: (i['auth'] as { type?: string } | undefined)?.type,
        connect: i['connect'] === true ? 'yes' : 'no',
      }));
      out.result(answer, () => table(rows, ['name', 'authType', 'baseUrl', 'connect']));
    });
}
