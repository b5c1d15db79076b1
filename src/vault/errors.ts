/** What a failed node-vault call tells us, without keeping the error (it carries request headers). */
export interface VaultFailure {
  /** HTTP status from Vault, or undefined when no answer came (network, timeout). */
  status: number | undefined;
  /** Network error code (ECONNREFUSED, ECONNABORTED, ...) when there was no answer. */
  network: string | undefined;
  /** Vault's first error string; Vault's messages name paths, never secret values. */
  message: string;
}

export function describeVaultError(err: unknown): VaultFailure {
  const e = err as { response?: { statusCode?: unknown }; code?: unknown; message?: unknown };
  const status = typeof e?.response?.statusCode === 'number' ? e.response.statusCode : undefined;
  const network = status === undefined ? (typeof e?.code === 'string' ? e.code : 'ENETWORK') : undefined;
  const message = typeof e?.message === 'string' ? e.message : 'unknown error';
  return { status, network, message };
}

export function vaultStatus(err: unknown): number | undefined {
  return describeVaultError(err).status;
}

/** Network failures, 5xx (503 = sealed) and 429 are worth retrying; other answers are not. */
export function isTransientVaultError(err: unknown): boolean {
  const { status } = describeVaultError(err);
  return status === undefined || status >= 500 || status === 429;
}
