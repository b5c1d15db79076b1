import pRetry from 'p-retry';
import { KeygateError } from '../errors.ts';
import { describeVaultError, isTransientVaultError } from './errors.ts';
import type { VaultClient, VaultSession } from './session.ts';

export interface RetryPolicy {
  /** Upper bound on the time spent retrying one operation. */
  budgetMs: number;
  retries?: number;
  minTimeoutMs?: number;
}

/** Seconds a caller should wait when Vault is unavailable. */
export const VAULT_RETRY_AFTER_SECONDS = 5;

/**
 * One Vault operation with Keygate's failure policy: transient failures (network,
 * 5xx, 429) retry with exponential backoff and jitter inside a time budget; a 403
 * logs in again once (VaultSession.call); other answers fail at once. Failures come
 * out as KeygateErrors that hold no secret (node-vault's errors carry the token).
 */
export async function vaultCall<T>(
  session: VaultSession,
  op: (client: VaultClient) => Promise<T>,
  policy: RetryPolicy,
  mapStatus?: (status: number, message: string) => KeygateError | undefined,
): Promise<T> {
  try {
    return await pRetry(() => session.call(op), {
      retries: policy.budgetMs > 0 ? (policy.retries ?? 6) : 0,
      minTimeout: policy.minTimeoutMs ?? 50,
      maxTimeout: 1000,
      factor: 2,
      randomize: true,
      maxRetryTime: policy.budgetMs,
      shouldRetry: ({ error }) => isTransientVaultError(error),
    });
  } catch (err) {
    throw toKeygateError(err, mapStatus);
  }
}

function toKeygateError(
  err: unknown,
  mapStatus?: (status: number, message: string) => KeygateError | undefined,
): KeygateError {
  if (err instanceof KeygateError) return err;
  const failure = describeVaultError(err);
  const cause = { status: failure.status, network: failure.network };
  if (failure.status === undefined || failure.status >= 500 || failure.status === 429) {
    return new KeygateError('vault_unavailable', { retryAfter: VAULT_RETRY_AFTER_SECONDS, cause });
  }
  const mapped = mapStatus?.(failure.status, failure.message);
  if (mapped) return mapped;
  if (failure.status === 403) {
    return new KeygateError('vault_unavailable', {
      message: 'Vault refuses Keygate (permission denied); check its token and policy.',
      retryAfter: VAULT_RETRY_AFTER_SECONDS,
      cause,
    });
  }
  // Vault's error strings name paths and reasons, never secret values.
  return new KeygateError('vault_error', {
    message: `Vault refused the operation (HTTP ${failure.status}).`,
    cause: { ...cause, vault: failure.message },
  });
}
