import type { Config } from '../config/schema.ts';
import { KeygateError } from '../errors.ts';
import { vaultCall, type RetryPolicy } from './call.ts';
import type { VaultClient, VaultSession } from './session.ts';

export interface KvRecord<T extends object = Record<string, unknown>> {
  data: T;
  version: number;
  customMetadata: Record<string, string>;
}

interface KvReadAnswer {
  data?: {
    data?: Record<string, unknown> | null;
    metadata?: { version?: number; custom_metadata?: Record<string, string> | null };
  };
}

/**
 * Keygate's corner of a KV v2 mount: every path is relative to `<mount>/…/<prefix>/`.
 * Writes take check-and-set; a lost race is a `conflict` error, never an overwrite.
 */
export class KvStore {
  readonly #vault: VaultSession;
  readonly #mount: string;
  readonly #prefix: string;
  readonly #policy: RetryPolicy;

  constructor({ vault, config }: { vault: VaultSession; config: Readonly<Config> }) {
    this.#vault = vault;
    this.#mount = config.vault.kvMount;
    this.#prefix = config.vault.prefix;
    this.#policy = { budgetMs: config.vault.retryBudgetMs };
  }

  /** The record's latest version, or undefined when there is none (or it was deleted). */
  async read<T extends object = Record<string, unknown>>(path: string): Promise<KvRecord<T> | undefined> {
    const answer = await this.#call<KvReadAnswer | undefined>(
      (c) => c.read(this.#data(path)),
      notFoundIsEmpty,
    );
    const data = answer?.data?.data;
    if (!data) return undefined;
    return {
      data: data as T,
      version: answer.data?.metadata?.version ?? 0,
      customMetadata: answer.data?.metadata?.custom_metadata ?? {},
    };
  }

  /** Writes a new version; with `cas`, only if the current version is `cas` (0: only if absent). */
  async write(
    path: string,
    data: Record<string, unknown>,
    options: { cas?: number } = {},
  ): Promise<{ version: number }> {
    const body = options.cas === undefined ? { data } : { options: { cas: options.cas }, data };
    const answer = await this.#call<{ data?: { version?: number } }>(
      (c) => c.write(this.#data(path), body),
      (status, message) =>
        status === 400 && /check-and-set/i.test(message) ? new KeygateError('conflict') : undefined,
    );
    return { version: answer.data?.version ?? 0 };
  }

  /** Replaces the record's custom_metadata (non-secret: expiry, status, auth type). */
  async writeMetadata(path: string, customMetadata: Record<string, string>): Promise<void> {
    await this.#call((c) => c.write(this.#metadata(path), { custom_metadata: customMetadata }));
  }

  /** The custom_metadata and current version of a record, without reading its data. */
  async readMetadata(
    path: string,
  ): Promise<{ version: number; customMetadata: Record<string, string> } | undefined> {
    const answer = await this.#call<
      { data?: { current_version?: number; custom_metadata?: Record<string, string> | null } } | undefined
    >((c) => c.read(this.#metadata(path)), notFoundIsEmpty);
    if (!answer?.data) return undefined;
    return { version: answer.data.current_version ?? 0, customMetadata: answer.data.custom_metadata ?? {} };
  }

  /** Removes the record with every version and its metadata: nothing can be restored. */
  async destroy(path: string): Promise<void> {
    await this.#call((c) => c.delete(this.#metadata(path)), notFoundIsEmpty);
  }

  /** Keys directly under `prefix` ("dir/" for sub-folders); empty when there are none. */
  async list(prefix: string): Promise<string[]> {
    const answer = await this.#call<{ data?: { keys?: string[] } } | undefined>(
      (c) => c.list(this.#metadata(prefix)),
      notFoundIsEmpty,
    );
    return answer?.data?.keys ?? [];
  }

  #data(path: string): string {
    return `${this.#mount}/data/${this.#prefix}/${path}`;
  }

  #metadata(path: string): string {
    return `${this.#mount}/metadata/${this.#prefix}/${path}`;
  }

  async #call<T>(
    op: (client: VaultClient) => Promise<T>,
    mapStatus?: (status: number, message: string) => KeygateError | undefined,
  ): Promise<T> {
    try {
      return await vaultCall(this.#vault, op, this.#policy, mapStatus);
    } catch (err) {
      if (err === NOT_FOUND) return undefined as T;
      throw err;
    }
  }
}

// A 404 from KV is an answer ("nothing there"), not a failure.
const NOT_FOUND = new KeygateError('credential_not_found');
const notFoundIsEmpty = (status: number) => (status === 404 ? NOT_FOUND : undefined);
