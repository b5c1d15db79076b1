import type nodeVault from 'node-vault';
import { SpanKind, endClientSpan, startChildSpan, tracing } from '../observability/tracing.ts';
import { describeVaultError } from './errors.ts';

/**
 * Traces every HTTP request node-vault sends (logins, KV, Transit, token calls) as a CLIENT span,
 * but only as the child of an active span (a proxied request, a refresh, a connect callback):
 * Vault calls made on their own (the fleet poll, the heartbeat) start no trace. Spans name the
 * path's shape, never the path itself (a connect flow's state or a link id is in some paths):
 * `GET /v1/secret/data/{path}`.
 */
export function traceVaultRequests(client: nodeVault.client): void {
  const send = client.request.bind(client);
  client.request = (options: nodeVault.RequestOption) => {
    if (!tracing.enabled) return send(options);
    const method = (options.method ?? 'GET').toUpperCase();
    const template = vaultPathTemplate(options.path ?? '/');
    let endpoint: URL;
    try {
      endpoint = new URL(client.endpoint);
    } catch {
      return send(options);
    }
    const span = startChildSpan(`${method} ${template}`, SpanKind.CLIENT, {
      'http.request.method': method,
      'server.address': endpoint.hostname,
      'server.port': endpoint.port ? Number(endpoint.port) : endpoint.protocol === 'https:' ? 443 : 80,
      'url.template': template,
    });
    if (!span) return send(options);
    return send(options).then(
      (answer: unknown) => {
        endClientSpan(span, undefined);
        return answer;
      },
      (err: unknown) => {
        const { status, network } = describeVaultError(err);
        // sys/health answers 429/472/473/501/503 by design; node-vault resolves those, so any
        // status here is a failure Keygate sees.
        endClientSpan(span, status, status === undefined ? { code: network } : undefined);
        throw err;
      },
    );
  };
}

/**
 * The shape of a Vault API path: `auth/<mount>/<op>` and `sys/<op>` kept, else the mount and its
 * operation (`secret/data`, `transit/decrypt`) and `{path}` for the rest; no query.
 */
export function vaultPathTemplate(path: string): string {
  const bare = path.split('?', 1)[0] as string;
  const segments = bare.split('/').filter(Boolean);
  const kept = segments[0] === 'auth' ? 3 : 2;
  const head = segments.slice(0, kept).join('/');
  return `/v1/${head}${segments.length > kept ? '/{path}' : ''}`;
}
